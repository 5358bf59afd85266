import { EventType } from '../src/events/event-types';
import { Rng } from './random';
import { simulateEngagement, World } from './world';

export interface HistoryImpression {
  requestId: string;
  userId: string;
  videoId: string;
  position: number;
  source: string;
  servedAt: Date;
}

export interface HistoryEvent {
  eventId: string;
  userId: string;
  videoId: string;
  type: EventType;
  watchMs: number | null;
  requestId: string;
  occurredAt: Date;
}

const PAGE = 10;

/**
 * A logged past: each user was served pages of popular and random videos and reacted
 * according to their hidden taste. Gives training and replay something real to start from.
 */
export function* buildHistory(world: World): Generator<{ impression: HistoryImpression; events: HistoryEvent[] }> {
  const { size, videos, users } = world;
  const rng = new Rng(size.seed ^ 0x5eed);
  const popularity = new Float64Array(videos.length);
  let acc = 0;
  videos.forEach((v, i) => {
    acc += Math.pow(v.quality, 4);
    popularity[i] = acc;
  });
  const end = size.now.getTime() - 3_600_000;
  const span = size.historyDays * 86_400_000;
  for (const user of users) {
    for (let n = 0; n < size.history; n++) {
      const page = Math.floor(n / PAGE);
      const requestId = `seed-${user.id}-${page}`;
      const video = rng.next() < 0.5 ? videos[rng.pickCumulative(popularity)] : videos[rng.int(videos.length)];
      let servedAt = end - span + ((page * PAGE) / size.history) * span + rng.int(60_000);
      if (servedAt < video.createdAt.getTime()) servedAt = video.createdAt.getTime() + rng.int(3_600_000);
      if (servedAt > end) servedAt = end;
      const e = simulateEngagement(user, video, rng);
      const base = `seed:${user.id}:${n}`;
      const at = (offsetMs: number) => new Date(servedAt + offsetMs);
      const mk = (type: EventType, offsetMs: number, watchMs: number | null = null): HistoryEvent => ({
        eventId: `${base}:${type}`,
        userId: user.id,
        videoId: video.id,
        type,
        watchMs,
        requestId,
        occurredAt: at(offsetMs),
      });
      const events: HistoryEvent[] = [mk('impression', 0)];
      if (e.skip) events.push(mk('skip', e.watchMs, e.watchMs));
      else events.push(mk('view', e.watchMs, e.watchMs));
      if (e.complete) events.push(mk('complete', e.watchMs + 1, e.watchMs));
      if (e.like) events.push(mk('like', e.watchMs + 2));
      if (e.share) events.push(mk('share', e.watchMs + 3));
      yield {
        impression: { requestId, userId: user.id, videoId: video.id, position: n % PAGE, source: 'seed', servedAt: new Date(servedAt) },
        events,
      };
    }
  }
}
