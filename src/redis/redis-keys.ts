import type { TrendingWindow } from '../events/trending';
import { shardTag } from '../queue/event-shards';

/**
 * Every Redis key the system uses, in one place. Keys that must be touched together
 * share a hash tag ({...}) so they live in one Redis Cluster slot: all of a user's
 * keys in {u:<id>}, all of a video's in {v:<id>}, global structures in their own tag.
 */
export class RedisKeys {
  constructor(readonly prefix: string) {}

  /** BullMQ queue prefix: one tag so each queue's keys share a slot, as BullMQ requires on a cluster. */
  get bullPrefix(): string {
    return `{${this.prefix}:bull}`;
  }

  /**
   * BullMQ prefix of shard `shard` of the events queue: its own hash tag, spread over the
   * slot range (see shardTag). With one shard, the common prefix (the queue as it always was).
   */
  eventQueuePrefix(shard: number, shards: number): string {
    return shards <= 1 ? this.bullPrefix : `{${shardTag(`${this.prefix}:bull:events`, shard, shards)}}`;
  }

  userFeatures(userId: string): string {
    return `${this.prefix}:u:{${userId}}:feat`;
  }

  userEmbedding(userId: string): string {
    return `${this.prefix}:u:{${userId}}:emb`;
  }

  /** Videos the user watched or was served; bounded, with time scores. */
  userSeen(userId: string): string {
    return `${this.prefix}:u:{${userId}}:seen`;
  }

  /** Event ids accepted for this user (ingest dedupe window). */
  userAcceptedEvents(userId: string): string {
    return `${this.prefix}:u:{${userId}}:accepted`;
  }

  /** Event ids whose effect on this user's state has been applied (exactly-once effect). */
  userAppliedEvents(userId: string): string {
    return `${this.prefix}:u:{${userId}}:applied`;
  }

  /** Hash: acceptedAt / appliedAt (epoch ms) of the user's latest applied events (freshness). */
  userMeta(userId: string): string {
    return `${this.prefix}:u:{${userId}}:meta`;
  }

  userServed(userId: string, sessionId: string): string {
    return `${this.prefix}:u:{${userId}}:served:${sessionId}`;
  }

  videoStats(videoId: string): string {
    return `${this.prefix}:v:{${videoId}}:stats`;
  }

  videoEmbedding(videoId: string): string {
    return `${this.prefix}:v:{${videoId}}:emb`;
  }

  /** Markers of the jobs whose effect on this video (and, on a single node, the job's other videos) is applied. */
  videoAppliedEvents(videoId: string): string {
    return `${this.prefix}:v:{${videoId}}:applied`;
  }

  /** Packed float64 per window: the video's decayed trending scores (log space) for 1h, 24h and 30d (see src/events/trending.ts). */
  videoTrend(videoId: string): string {
    return `${this.prefix}:v:{${videoId}}:trend`;
  }

  /** Sorted set of the videos' log-space scores of one window (1h, 24h: trending; 30d: decayed popularity). */
  trending(window: TrendingWindow): string {
    return `${this.prefix}:{trending}:${window}`;
  }

  /** Pub/sub channel announcing model activations to every api instance. */
  get modelChannel(): string {
    return `${this.prefix}:models:activated`;
  }

  /** Pub/sub channel announcing catalog changes (upserts, takedowns). */
  get catalogChannel(): string {
    return `${this.prefix}:catalog:changed`;
  }

  /** Pub/sub channel announcing a new set of item-to-item neighbours (its version), for the apis to load. */
  get neighboursChannel(): string {
    return `${this.prefix}:neighbours:written`;
  }

  /** Pub/sub channel announcing a new sequence model (its version), for the apis to load. */
  get sequenceChannel(): string {
    return `${this.prefix}:sequence:written`;
  }

  /** Pub/sub channel naming videos whose online stats changed (newline-separated ids), for the apis' near caches. */
  get videoStatsChannel(): string {
    return `${this.prefix}:videos:stats-changed`;
  }

  /** Rate-limit counter of one client (throttler name + tracker); one key per client, its own slot. */
  throttle(key: string): string {
    return `${this.prefix}:throttle:{${key}}`;
  }

  /** Marker of the last time each part of the state was rebuilt or updated. */
  get freshness(): string {
    return `${this.prefix}:{meta}:freshness`;
  }
}
