import { EventType } from '../database/entities/interaction.entity';
import { FeatureEvent } from '../features/user-state';

/** Job names on QueueName.Events and QueueName.Interactions. */
export const APPLY_EVENTS_JOB = 'apply';
export const APPEND_LOG_JOB = 'append';

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
  /** Stable across retries and dead-letter replays; also the id of the log job it leads to. */
  chunkId: string;
  events: QueuedEvent[];
}

/** One interactions row: the event plus its position in the user's applied order. */
export interface LoggedEvent extends QueuedEvent {
  userId: string;
  userSeq: number;
}

/** Data of an `append` job on the interactions queue. */
export interface AppendLogJob {
  events: LoggedEvent[];
}

export function toFeatureEvent(userId: string, e: QueuedEvent): FeatureEvent {
  return { eventId: e.eventId, userId, videoId: e.videoId, type: e.type, watchMs: e.watchMs, occurredAt: e.occurredAt };
}
