import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

@Entity('drift_reports')
@Index('idx_drift_reports_time', ['computedAt'])
export class DriftReportEntity {
  @PrimaryGeneratedColumn('increment', { type: 'bigint' })
  id: string;

  @Column('text', { name: 'model_version' })
  modelVersion: string;

  @Column('timestamptz', { name: 'computed_at' })
  computedAt: Date;

  /** PSI per feature and per score head against the model's training baseline. */
  @Column('jsonb')
  psi: Record<string, number>;

  @Column('real', { name: 'max_psi' })
  maxPsi: number;

  @Column('boolean')
  alert: boolean;

  @Column('integer', { name: 'sample_size' })
  sampleSize: number;
}
