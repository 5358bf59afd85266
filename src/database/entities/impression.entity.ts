import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/** What was served to whom, where, by which model, with the features the model saw. */
@Entity('impressions')
@Index('idx_impressions_time_id', ['servedAt', 'id'])
@Index('idx_impressions_user_time', ['userId', 'servedAt'])
@Index('uq_impressions_request_position', ['requestId', 'position'], { unique: true })
export class ImpressionEntity {
  @PrimaryGeneratedColumn('increment', { type: 'bigint' })
  id: string;

  @Column('text', { name: 'request_id' })
  requestId: string;

  @Column('text', { name: 'user_id' })
  userId: string;

  @Column('text', { name: 'video_id' })
  videoId: string;

  @Column('integer')
  position: number;

  @Column('text')
  source: string;

  @Column('real', { nullable: true })
  score: number | null;

  @Column('text', { name: 'model_version', nullable: true })
  modelVersion: string | null;

  /** Model inputs at serving time, in the order of the model's feature spec. */
  @Column('real', { array: true, nullable: true })
  features: number[] | null;

  @Column('timestamptz', { name: 'served_at' })
  servedAt: Date;
}
