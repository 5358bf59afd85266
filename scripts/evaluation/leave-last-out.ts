import { EventType } from '../../src/events/event-types';
import { EventRecord, VideoRecord } from '../../src/importer/import-records';

/** Event types that count as the user choosing a video (the held-out item, the baselines' input). */
export const POSITIVE_TYPES: ReadonlySet<EventType> = new Set<EventType>(['view', 'like', 'share', 'comment', 'complete']);

export interface Split {
  /** Every event the system may learn from, in file order. */
  train: EventRecord[];
  /** Per evaluated user, the video held out. */
  heldOut: Map<string, string>;
  /** Per evaluated user, when the held-out event happened (the feed is asked as of just before). */
  heldOutAt: Map<string, number>;
}

/**
 * Leave-last-out by time: each user's last positive event (ties broken by file order) names
 * the held-out video; the user's events from that one on, and all the user's events on that
 * video, leave the training data. Users with no other positive video are not evaluated
 * (their events all stay in training). `events` must be in file order.
 */
export function leaveLastOut(events: readonly EventRecord[]): Split {
  const last = new Map<string, number>();
  events.forEach((e, i) => {
    if (!POSITIVE_TYPES.has(e.type)) return;
    const j = last.get(e.userId);
    if (j === undefined || e.occurredAt >= events[j].occurredAt) last.set(e.userId, i);
  });
  const cut = new Map<string, { index: number; at: number; videoId: string }>();
  for (const [userId, i] of last) cut.set(userId, { index: i, at: events[i].occurredAt, videoId: events[i].videoId });

  const before = (e: EventRecord, i: number, c: { index: number; at: number }) => e.occurredAt < c.at || (e.occurredAt === c.at && i < c.index);
  const otherPositive = new Set<string>();
  events.forEach((e, i) => {
    const c = cut.get(e.userId);
    if (c && POSITIVE_TYPES.has(e.type) && e.videoId !== c.videoId && before(e, i, c)) otherPositive.add(e.userId);
  });

  const heldOut = new Map<string, string>();
  const heldOutAt = new Map<string, number>();
  for (const [userId, c] of cut) {
    if (!otherPositive.has(userId)) continue;
    heldOut.set(userId, c.videoId);
    heldOutAt.set(userId, c.at);
  }
  const train = events.filter((e, i) => {
    const c = cut.get(e.userId);
    if (!c || !heldOut.has(e.userId)) return true;
    return e.videoId !== c.videoId && before(e, i, c);
  });
  return { train, heldOut, heldOutAt };
}

/**
 * Videos without a created time date from their first training event, or the first event
 * of all when they have none: dated at import time instead, a video seen only in held-out
 * events would be the newest upload, and the fresh source would point at it.
 */
export function dateFromTraining(videos: VideoRecord[], train: readonly EventRecord[]): void {
  const first = new Map<string, number>();
  let earliest = Infinity;
  for (const e of train) {
    if (e.occurredAt < (first.get(e.videoId) ?? Infinity)) first.set(e.videoId, e.occurredAt);
    if (e.occurredAt < earliest) earliest = e.occurredAt;
  }
  for (const v of videos) if (v.createdAt === null) v.createdAt = first.get(v.id) ?? (Number.isFinite(earliest) ? earliest : null);
}
