import { randomUUID } from 'node:crypto';
import { EventType } from '../../src/events/event-types';
import { ApplyEventsJob, QueuedEvent } from '../../src/events/event-jobs';
import { uniqueId } from './sequence';

/** An accepted event as the api queues it. */
export function buildQueuedEvent(overrides: Partial<QueuedEvent> & Pick<QueuedEvent, 'videoId'>): QueuedEvent {
  const now = Date.now();
  return {
    eventId: uniqueId('e'),
    type: 'view',
    watchMs: overrides.type === 'view' || overrides.type === 'skip' || overrides.type === undefined ? 5_000 : null,
    requestId: null,
    occurredAt: now,
    receivedAt: now,
    ...overrides,
  };
}

/** A job of one user's events, as EventQueuesRepository.enqueueApply builds it. */
export function buildApplyJob(userId: string, events: QueuedEvent[]): ApplyEventsJob {
  return { userId, chunkId: randomUUID(), events };
}

const TYPES: EventType[] = ['impression', 'view', 'view', 'like', 'skip', 'complete', 'share', 'comment', 'follow', 'unlike', 'unfollow'];

/** Deterministic pseudo-random events over `videoIds`, with times spread over `spanMs` before `end` (out of order). */
export function randomEvents(count: number, videoIds: string[], seed: number, end = Date.now(), spanMs = 6 * 3_600_000): QueuedEvent[] {
  let s = seed >>> 0 || 1;
  const next = () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 2 ** 32;
  };
  return Array.from({ length: count }, () => {
    const type = TYPES[Math.floor(next() * TYPES.length)];
    return buildQueuedEvent({
      videoId: videoIds[Math.floor(next() * videoIds.length)],
      type,
      watchMs: type === 'view' || type === 'skip' ? Math.floor(next() * 30_000) : null,
      occurredAt: end - Math.floor(next() * spanMs),
      receivedAt: end,
    });
  });
}
