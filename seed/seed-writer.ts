import { Pool } from 'pg';
import { copyIdempotent, CopyValue } from './copy';
import { buildHistory } from './history';
import { TOPICS, World } from './world';

export interface SeedCounts {
  users: number;
  creators: number;
  videos: number;
  follows: number;
  impressions: number;
  interactions: number;
}

/** Writes the world and its history in one transaction; rows that already exist are left alone. */
export async function writeWorld(pool: Pool, world: World): Promise<SeedCounts> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const users = await copyIdempotent(
      client,
      'users',
      ['id', 'display_name', 'sim_traits'],
      world.users.map((u) => [u.id, u.displayName, JSON.stringify({ topicWeights: u.topicWeights, seed: world.size.seed })]),
    );
    const creators = await copyIdempotent(
      client,
      'creators',
      ['id', 'name', 'main_category'],
      world.creators.map((c) => [c.id, c.name, TOPICS[c.topic]]),
    );
    const videos = await copyIdempotent(
      client,
      'videos',
      ['id', 'creator_id', 'title', 'category', 'tags', 'duration_ms', 'embedding', 'status', 'created_at', 'updated_at'],
      world.videos.map((v) => [v.id, v.creatorId, v.title, TOPICS[v.topic], v.tags, v.durationMs, v.embedding, 'active', v.createdAt, v.createdAt]),
    );
    const follows = await copyIdempotent(
      client,
      'follows',
      ['user_id', 'creator_id'],
      world.users.flatMap((u) => u.follows.map((c) => [u.id, c])),
    );
    const impressionRows: CopyValue[][] = [];
    const eventRows: CopyValue[][] = [];
    for (const { impression: i, events } of buildHistory(world)) {
      impressionRows.push([i.requestId, i.userId, i.videoId, i.position, i.source, null, null, null, i.servedAt]);
      for (const e of events) eventRows.push([e.eventId, e.userId, e.videoId, e.type, e.watchMs, e.requestId, e.occurredAt, e.occurredAt]);
    }
    const impressions = await copyIdempotent(
      client,
      'impressions',
      ['request_id', 'user_id', 'video_id', 'position', 'source', 'score', 'model_version', 'features', 'served_at'],
      impressionRows,
    );
    const interactions = await copyIdempotent(
      client,
      'interactions',
      ['event_id', 'user_id', 'video_id', 'type', 'watch_ms', 'request_id', 'occurred_at', 'received_at'],
      eventRows,
    );
    await client.query('COMMIT');
    return { users, creators, videos, follows, impressions, interactions };
  } catch (err) {
    await client.query('ROLLBACK');
    throw err;
  } finally {
    client.release();
  }
}
