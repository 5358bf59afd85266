import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';
import type { EventType } from '../../events/event-types';

/** Append-only log of user actions: the source of truth for training and replay. */
@Entity('interactions')
@Index('uq_interactions_user_event', ['userId', 'eventId'], { unique: true })
@Index('idx_interactions_user_time', ['userId', 'occurredAt'])
@Index('idx_interactions_time_id', ['occurredAt', 'id'])
export class InteractionEntity {
  @PrimaryGeneratedColumn('increment', { type: 'bigint' })
  id: string;

  @Column('text', { name: 'event_id' })
  eventId: string;

  @Column('text', { name: 'user_id' })
  userId: string;

  @Column('text', { name: 'video_id' })
  videoId: string;

  @Column('text')
  type: EventType;

  @Column('integer', { name: 'watch_ms', nullable: true })
  watchMs: number | null;

  @Column('text', { name: 'request_id', nullable: true })
  requestId: string | null;

  @Column('timestamptz', { name: 'occurred_at' })
  occurredAt: Date;

  @Column('timestamptz', { name: 'received_at', default: () => 'now()' })
  receivedAt: Date;

  /** Position of this event in the order the worker applied the user's events (null for rows not applied online, e.g. seeded). */
  @Column('bigint', { name: 'user_seq', nullable: true })
  userSeq: string | null;
}
