import { Column, CreateDateColumn, Entity, Index, PrimaryColumn } from 'typeorm';

export type ModelStatus = 'candidate' | 'active' | 'shadow' | 'retired';

@Entity('model_versions')
@Index('uq_model_versions_one_active', ['status'], { unique: true, where: "status = 'active'" })
export class ModelVersionEntity {
  @PrimaryColumn('text')
  id: string;

  @Column('text')
  status: ModelStatus;

  /** The ONNX file itself, so every instance loads the same bytes from one place. */
  @Column('bytea')
  artifact: Buffer;

  @Column('text', { name: 'artifact_sha256' })
  artifactSha256: string;

  @Column('jsonb', { name: 'feature_spec' })
  featureSpec: Record<string, unknown>;

  @Column('jsonb', { default: () => "'{}'" })
  metrics: Record<string, unknown>;

  @Column('jsonb', { name: 'training_info', default: () => "'{}'" })
  trainingInfo: Record<string, unknown>;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @Column('timestamptz', { name: 'activated_at', nullable: true })
  activatedAt: Date | null;
}
