import { Column, CreateDateColumn, Entity, Index, PrimaryColumn, UpdateDateColumn } from 'typeorm';

export type VideoStatus = 'active' | 'taken_down';

@Entity('videos')
@Index('idx_videos_creator', ['creatorId'])
export class VideoEntity {
  @PrimaryColumn('text')
  id: string;

  @Column('text', { name: 'creator_id' })
  creatorId: string;

  @Column('text')
  title: string;

  @Column('text')
  category: string;

  @Column('text', { array: true, default: () => "'{}'" })
  tags: string[];

  @Column('integer', { name: 'duration_ms' })
  durationMs: number;

  /** Optional content embedding supplied by the catalog (EMBEDDING_DIM floats). */
  @Column('real', { array: true, nullable: true })
  embedding: number[] | null;

  /** Embedding learned from co-engagement by the training loop, used when `embedding` is null. */
  @Column('real', { name: 'learned_embedding', array: true, nullable: true })
  learnedEmbedding: number[] | null;

  @Column('text', { name: 'learned_embedding_version', nullable: true })
  learnedEmbeddingVersion: string | null;

  @Column('text', { default: 'active' })
  status: VideoStatus;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}
