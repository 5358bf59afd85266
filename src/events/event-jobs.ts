import { EventType } from './event-types';
import { FeatureEvent } from '../features/user-state';
import type { JobName, QueueName } from '../queue/queue.types';

/** Job name on QueueName.Events. */
export const APPLY_EVENTS_JOB: JobName<QueueName.Events> = 'apply';

/** One accepted event as it travels through the queue (times are epoch ms). */
export interface QueuedEvent {
  eventId: string;
  videoId: string;
  type: EventType;
  watchMs: number | null;
  requestId: string | null;
  occurredAt: number;
  /** When the api accepted it: the start of the freshness clock. */
  receivedAt: number;
}

/** Data of an `apply` job: a small batch of one user's events, in time order. */
export interface ApplyEventsJob {
  userId: string;
  /** Identifies the batch in logs; stable across retries and dead-letter replays. */
  chunkId: string;
  events: QueuedEvent[];
  /**
   * Set on a dead letter split off from its job (one event that could not be applied or
   * logged): the reason. Such a job fails at once; replaying it clears this.
   */
  rejected?: string;
  /** Seqs the events were applied with already (a dead letter whose log write failed): a replay only logs them. */
  appliedSeqs?: number[];
}

/** One interactions row: the event plus its position in the user's applied order. */
export interface LoggedEvent extends QueuedEvent {
  userId: string;
  userSeq: number;
}

/**
 * Progress an `apply` job records when it failed after its user and video effects were
 * applied: a retry or dead-letter replay then resumes from there, with these seqs.
 */
export interface AppliedProgress {
  seqs: number[];
}

export function isAppliedProgress(progress: unknown): progress is AppliedProgress {
  return typeof progress === 'object' && progress !== null && Array.isArray((progress as AppliedProgress).seqs);
}

export function toFeatureEvent(userId: string, e: QueuedEvent): FeatureEvent {
  return { eventId: e.eventId, userId, videoId: e.videoId, type: e.type, watchMs: e.watchMs, occurredAt: e.occurredAt };
}
