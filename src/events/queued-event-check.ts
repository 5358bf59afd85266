import { instantProblem } from '../common/validation';
import { textProblem } from '../common/unstorable-text';
import { EVENT_TYPES } from './event-types';
import { QueuedEvent } from './event-jobs';

const MAX_ID_LENGTH = 128;
const MAX_WATCH_MS = 86_400_000;

function idProblem(name: string, value: unknown, optional = false): string | null {
  if (optional && value === null) return null;
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_ID_LENGTH) return `${name} must be 1-${MAX_ID_LENGTH} characters`;
  const problem = textProblem(value);
  return problem ? `${name} ${problem}` : null;
}

/**
 * Why the worker cannot apply and log this event, or null. The api validates what it
 * accepts; this is the worker's own check of what reaches it (an older api, the stream,
 * a hand-edited dead letter), mirroring what the interactions table and the Redis
 * scripts can hold, so an event that would fail there is set aside before it changes
 * any state.
 */
export function queuedEventProblem(userId: string, e: QueuedEvent): string | null {
  return (
    idProblem('userId', userId) ??
    idProblem('eventId', e.eventId) ??
    idProblem('videoId', e.videoId) ??
    idProblem('requestId', e.requestId, true) ??
    ((EVENT_TYPES as readonly string[]).includes(e.type) ? null : `type must be one of ${EVENT_TYPES.join(', ')}`) ??
    (e.watchMs === null || (Number.isInteger(e.watchMs) && e.watchMs >= 0 && e.watchMs <= MAX_WATCH_MS)
      ? null
      : `watchMs must be an integer from 0 to ${MAX_WATCH_MS}`) ??
    (Number.isFinite(e.receivedAt) ? null : 'receivedAt must be a finite instant') ??
    prefixed('occurredAt', instantProblem(e.occurredAt, e.receivedAt))
  );
}

function prefixed(name: string, problem: string | null): string | null {
  return problem ? `${name} ${problem}` : null;
}
