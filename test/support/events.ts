import { INestApplicationContext } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AnyRedis } from '../../src/redis/redis-connection';
import { REDIS } from '../../src/redis/redis.constants';
import { RedisKeys } from '../../src/redis/redis-keys';
import { TRENDING_WINDOWS, TrendingWindow } from '../../src/events/trending';
import { decodeUserState, UserState } from '../../src/features/user-state';
import { decodeVideoStats, VideoStats } from '../../src/features/video-stats';
import { createVideo } from '../factories/video.factory';
import { createCreator } from '../factories/creator.factory';

/** Creates `count` videos over a few creators and categories, with unit embeddings (some without). */
export async function createCatalog(db: DataSource, count: number, dim = 32): Promise<string[]> {
  const categories = ['comedy', 'dance', 'food', 'pets'];
  const creators = [];
  for (const c of categories) creators.push((await createCreator(db, { mainCategory: c })).id);
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const embedding = i % 5 === 4 ? null : Array.from({ length: dim }, (_, d) => Math.cos((i + 1) * (d + 1)));
    const norm = embedding ? Math.hypot(...embedding) : 1;
    const video = await createVideo(db, {
      creatorId: creators[i % creators.length],
      category: categories[i % categories.length],
      durationMs: 10_000 + 1000 * (i % 7),
      embedding: embedding ? embedding.map((x) => x / norm) : null,
    });
    ids.push(video.id);
  }
  return ids;
}

/** Everything the event pipeline wrote to Redis for these users and videos, decoded. */
export interface OnlineSnapshot {
  users: Record<string, { state: UserState; seen: string[]; applied: string[] }>;
  videos: Record<string, { stats: VideoStats; trend: Buffer | null }>;
  trending: Record<TrendingWindow, string[]>;
}

export async function snapshotOnlineState(app: INestApplicationContext, userIds: string[], videoIds: string[]): Promise<OnlineSnapshot> {
  const redis = app.get<AnyRedis>(REDIS);
  const keys = app.get(RedisKeys);
  const out: OnlineSnapshot = { users: {}, videos: {}, trending: { '1h': [], '24h': [], '30d': [] } };
  for (const u of userIds) {
    out.users[u] = {
      state: decodeUserState(await redis.getBuffer(keys.userFeatures(u)), 32),
      seen: await redis.zrange(keys.userSeen(u), 0, -1, 'WITHSCORES'),
      applied: await redis.zrange(keys.userAppliedEvents(u), 0, -1, 'WITHSCORES'),
    };
  }
  for (const v of videoIds) {
    out.videos[v] = {
      stats: decodeVideoStats(await redis.getBuffer(keys.videoStats(v))),
      trend: await redis.getBuffer(keys.videoTrend(v)),
    };
  }
  for (const w of TRENDING_WINDOWS) out.trending[w] = await redis.zrange(keys.trending(w), 0, -1, 'WITHSCORES');
  return out;
}
