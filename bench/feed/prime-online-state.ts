import { Redis } from 'ioredis';
import { Pool } from 'pg';
import { toCatalogVideo } from '../../src/catalog/catalog.repository';
import { CatalogVideo } from '../../src/features/catalog-video';
import { applyUserEvent, emptyUserState, encodeUserState, FeatureEvent, UserState } from '../../src/features/user-state';
import { applyVideoStatDelta, emptyVideoStats, encodeVideoStats, videoStatDelta, VideoStats } from '../../src/features/video-stats';
import { EventType } from '../../src/database/entities/interaction.entity';
import { RedisKeys } from '../../src/redis/redis-keys';

const PAGE = 50_000;
const WATCHED: ReadonlySet<EventType> = new Set(['view', 'skip', 'complete', 'like', 'share']);
const TREND_WEIGHT: Partial<Record<EventType, number>> = { view: 1, complete: 2, like: 3, share: 4, skip: -1 };

export async function loadCatalog(pool: Pool): Promise<Map<string, CatalogVideo>> {
  const { rows } = await pool.query(
    `SELECT id, creator_id, title, category, tags, duration_ms, created_at, status, COALESCE(embedding, learned_embedding) AS embedding FROM videos`,
  );
  return new Map(rows.map((r) => [r.id, toCatalogVideo(r)]));
}

/**
 * Builds the Redis online state (user states, video stats, seen sets, trending) from
 * the seeded interaction log with the shared feature functions, so the benchmark
 * world looks like one the event pipeline has been feeding.
 */
export async function primeOnlineState(
  pool: Pool,
  redis: Redis,
  keys: RedisKeys,
  catalog: Map<string, CatalogVideo>,
  dim: number,
): Promise<{ users: number; videos: number; events: number }> {
  const users = new Map<string, UserState>();
  const seen = new Map<string, Map<string, number>>();
  const stats = new Map<string, VideoStats>();
  const events: { videoId: string; type: EventType; at: number }[] = [];
  let after = '0';
  let count = 0;
  for (;;) {
    const { rows } = await pool.query(
      `SELECT id, event_id, user_id, video_id, type, watch_ms, occurred_at FROM interactions WHERE id > $1 ORDER BY id LIMIT $2`,
      [after, PAGE],
    );
    if (rows.length === 0) break;
    after = rows[rows.length - 1].id;
    for (const r of rows) {
      const video = catalog.get(r.video_id) ?? null;
      const event: FeatureEvent = {
        eventId: r.event_id,
        userId: r.user_id,
        videoId: r.video_id,
        type: r.type,
        watchMs: r.watch_ms,
        occurredAt: r.occurred_at.getTime(),
      };
      let state = users.get(r.user_id);
      if (!state) users.set(r.user_id, (state = emptyUserState(dim)));
      applyUserEvent(state, event, video);
      let s = stats.get(r.video_id);
      if (!s) stats.set(r.video_id, (s = emptyVideoStats()));
      applyVideoStatDelta(s, videoStatDelta(r.type, r.watch_ms));
      if (WATCHED.has(r.type)) {
        let set = seen.get(r.user_id);
        if (!set) seen.set(r.user_id, (set = new Map()));
        set.set(r.video_id, event.occurredAt);
      }
      if (TREND_WEIGHT[r.type as EventType]) events.push({ videoId: r.video_id, type: r.type, at: event.occurredAt });
      count++;
    }
  }
  const end = events.reduce((m, e) => Math.max(m, e.at), 0);
  const trend = { '1h': new Map<string, number>(), '24h': new Map<string, number>() };
  for (const e of events) {
    const w = TREND_WEIGHT[e.type]!;
    trend['1h'].set(e.videoId, (trend['1h'].get(e.videoId) ?? 0) + w * Math.exp(-(end - e.at) / 3_600_000));
    trend['24h'].set(e.videoId, (trend['24h'].get(e.videoId) ?? 0) + w * Math.exp(-(end - e.at) / 86_400_000));
  }

  const writes: [string, (p: ReturnType<Redis['pipeline']>) => void][] = [];
  for (const [id, state] of users) writes.push([id, (p) => p.set(keys.userFeatures(id), encodeUserState(state))]);
  for (const [id, s] of stats) writes.push([id, (p) => p.set(keys.videoStats(id), encodeVideoStats(s))]);
  for (const [id, set] of seen) {
    writes.push([id, (p) => p.del(keys.userSeen(id)).zadd(keys.userSeen(id), ...[...set].flatMap(([v, t]) => [t, v]))]);
  }
  for (const window of ['1h', '24h'] as const) {
    const top = [...trend[window]].filter(([, s]) => s > 0).sort((a, b) => b[1] - a[1]).slice(0, 1000);
    writes.push([window, (p) => p.del(keys.trending(window)).zadd(keys.trending(window), ...top.flatMap(([v, s]) => [s, v]))]);
  }
  for (let i = 0; i < writes.length; i += 2000) {
    const pipeline = redis.pipeline();
    for (const [, write] of writes.slice(i, i + 2000)) write(pipeline);
    await pipeline.exec();
  }
  return { users: users.size, videos: stats.size, events: count };
}
