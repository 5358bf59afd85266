import { Cluster } from 'ioredis';
import { AnyRedis } from './redis-connection';

/**
 * GETs many binary values in one round trip, index-aligned with `keys` (null where
 * missing): one MGET on a single node; on a cluster, where MGET cannot span slots and
 * each video's keys have a slot of their own, one GET per key, which the client's
 * auto-pipelining sends as one pipeline per node.
 */
export function readBlobs(redis: AnyRedis, keys: string[]): Promise<(Buffer | null)[]> {
  if (keys.length === 0) return Promise.resolve([]);
  if (redis instanceof Cluster) return Promise.all(keys.map((key) => redis.getBuffer(key)));
  return redis.mgetBuffer(...keys);
}
