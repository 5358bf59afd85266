import { Redis } from 'ioredis';
import { applyUserEvent, emptyUserState, encodeUserState, FeatureEvent, UserState } from '../../src/features/user-state';
import { CatalogVideo } from '../../src/features/catalog-video';
import { emptyVideoStats, encodeVideoStats, VideoStats } from '../../src/features/video-stats';
import { RedisKeys } from '../../src/redis/redis-keys';
import { VideoSeed } from './catalog.factory';

export function toCatalogVideo(v: VideoSeed): CatalogVideo {
  return {
    id: v.id,
    creatorId: v.creatorId,
    title: v.title ?? v.id,
    category: v.category,
    tags: [],
    durationMs: v.durationMs ?? 20_000,
    createdAt: (v.createdAt ?? new Date()).getTime(),
    embedding: v.embedding ? Float32Array.from(v.embedding) : null,
    active: (v.status ?? 'active') === 'active',
  };
}

/** A user state built the way the event pipeline builds it: by applying events. */
export function userStateFrom(dim: number, events: { type: FeatureEvent['type']; video: VideoSeed; at?: number }[]): UserState {
  const state = emptyUserState(dim);
  events.forEach((e, i) =>
    applyUserEvent(
      state,
      { eventId: `e${i}`, userId: 'u', videoId: e.video.id, type: e.type, watchMs: null, occurredAt: e.at ?? Date.now() - 60_000 + i },
      toCatalogVideo(e.video),
    ),
  );
  return state;
}

export async function writeUserState(redis: Redis, keys: RedisKeys, userId: string, state: UserState): Promise<void> {
  await redis.set(keys.userFeatures(userId), encodeUserState(state));
}

export async function writeVideoStats(redis: Redis, keys: RedisKeys, videoId: string, stats: Partial<VideoStats>): Promise<void> {
  await redis.set(keys.videoStats(videoId), encodeVideoStats({ ...emptyVideoStats(), ...stats }));
}

export async function markSeen(redis: Redis, keys: RedisKeys, userId: string, videoIds: string[]): Promise<void> {
  if (videoIds.length) await redis.zadd(keys.userSeen(userId), ...videoIds.flatMap((id, i) => [Date.now() + i, id]));
}

export async function setTrending(redis: Redis, keys: RedisKeys, videoIds: string[]): Promise<void> {
  if (videoIds.length) await redis.zadd(keys.trending('1h'), ...videoIds.flatMap((id, i) => [videoIds.length - i, id]));
}
