import { Logger } from '@nestjs/common';
import { Cluster, ClusterOptions, Redis, RedisOptions } from 'ioredis';
import { AppConfig } from '../config/app-config';

export type AnyRedis = Redis | Cluster;

export function redisOptionsFromUrl(url: string): RedisOptions {
  const u = new URL(url);
  return {
    host: u.hostname,
    port: Number(u.port || 6379),
    username: u.username ? decodeURIComponent(u.username) : undefined,
    password: u.password ? decodeURIComponent(u.password) : undefined,
    db: u.pathname.length > 1 ? Number(u.pathname.slice(1)) : 0,
    tls: u.protocol === 'rediss:' ? {} : undefined,
  };
}

/**
 * A new client for the configured Redis: a single node, or a cluster when
 * REDIS_CLUSTER_NODES is set. `overrides` apply to every node connection; those that
 * ioredis reads at the cluster level (auto-pipelining, offline queue) are applied there
 * too, and `clusterOverrides` only in cluster mode.
 */
export function createRedisClient(
  config: Pick<AppConfig, 'REDIS_URL' | 'REDIS_CLUSTER_NODES'>,
  overrides: RedisOptions = {},
  clusterOverrides: ClusterOptions = {},
): AnyRedis {
  const base = { ...redisOptionsFromUrl(config.REDIS_URL), ...overrides };
  if (config.REDIS_CLUSTER_NODES) {
    const nodes = config.REDIS_CLUSTER_NODES.split(',').map((hp) => {
      const [host, port] = hp.split(':');
      return { host, port: Number(port) };
    });
    const { host: _host, port: _port, ...shared } = base;
    const clusterLevel: ClusterOptions = {};
    if (overrides.enableAutoPipelining !== undefined) clusterLevel.enableAutoPipelining = overrides.enableAutoPipelining;
    if (overrides.enableOfflineQueue !== undefined) clusterLevel.enableOfflineQueue = overrides.enableOfflineQueue;
    return endsWhenDisconnected(new Cluster(nodes, { ...clusterLevel, ...clusterOverrides, redisOptions: shared }));
  }
  return new Redis(base);
}

/**
 * ioredis' Cluster does not stay ended once disconnected: after `end` its connection
 * pool drains and sets the status back to `close`, and one disconnected between two
 * reconnect attempts (no node left in its pool) never reaches `end` at all. A command
 * sent to it then (a retry ioredis had delayed while the cluster was down, such as
 * BullMQ's blocking wait for a job) sits in the offline queue of a client that will
 * never connect again. BullMQ's `Worker.close()` waits for that command, so a worker
 * that had just seen a master go down and come back never finished closing, and
 * shutdown stalled until the watchdog killed the process.
 *
 * Until `connect()` is called again, this keeps a disconnected (or quit) cluster ended (status
 * `end`, emitted once, no offline queue), so late commands fail at once as they would
 * on a closed single-node client. Its duplicates are patched too: BullMQ's blocking
 * connections are `duplicate()`s of the connection it is given.
 */
export function endsWhenDisconnected(cluster: Cluster): Cluster {
  const disconnect = cluster.disconnect.bind(cluster);
  const quit = cluster.quit.bind(cluster);
  const connect = cluster.connect.bind(cluster);
  const queueing = cluster.options.enableOfflineQueue;
  let closed = false;
  let ended = false;
  const holdEnded = () => {
    if (!closed) return;
    cluster.status = 'end';
    // After ioredis' own `end`, when it sends one (its status events go out on the next tick).
    setImmediate(() => {
      if (closed && !ended) cluster.emit('end');
    });
  };
  cluster.on('end', () => (ended = true));
  cluster.on('close', holdEnded);
  /** Runs a closing call; with no node to drain, ioredis emits neither `close` nor `end` after it. */
  const closing = <T>(close: () => T): T => {
    const poolEmpty = cluster.nodes().length === 0 && cluster.status !== 'wait';
    closed = true;
    cluster.options.enableOfflineQueue = false;
    const result = close();
    if (poolEmpty) process.nextTick(holdEnded);
    return result;
  };
  cluster.disconnect = (reconnect = false) => (reconnect ? disconnect(true) : closing(() => disconnect()));
  cluster.quit = (callback?: Parameters<Cluster['quit']>[0]) => closing(() => quit(callback));
  cluster.connect = () => {
    closed = false;
    ended = false;
    cluster.options.enableOfflineQueue = queueing;
    return connect();
  };
  const duplicate = cluster.duplicate.bind(cluster);
  cluster.duplicate = (...args: Parameters<Cluster['duplicate']>) => endsWhenDisconnected(duplicate(...args));
  return cluster;
}

/**
 * Closes a client without waiting on a server that is not there: `quit()` on a
 * reconnecting ioredis client resolves but leaves its reconnect timer running.
 */
export async function closeRedisClient(client: AnyRedis): Promise<void> {
  if (client.status === 'end') return;
  if (client.status === 'ready') {
    await client.quit().catch(() => client.disconnect());
  } else {
    client.disconnect();
  }
}

/**
 * Sends a client's connection errors to the structured log, at most one line per client
 * every 5 s: without a listener ioredis prints each one as a bare stack trace
 * ("Unhandled error event"), dozens a second while a cluster master is down.
 */
export function logClientErrors<T extends AnyRedis>(client: T, name: string): T {
  const logger = new Logger('Redis');
  let lastAt = 0;
  let suppressed = 0;
  const report = (err: Error, node?: string) => {
    const now = Date.now();
    if (now - lastAt < 5000) {
      suppressed += 1;
      return;
    }
    const more = suppressed > 0 ? ` (and ${suppressed} more since the last such line)` : '';
    logger.warn(`${name} client${node ? ` (node ${node})` : ''}: ${err?.message ?? String(err)}${more}`);
    lastAt = now;
    suppressed = 0;
  };
  client.on('error', (err: Error) => report(err));
  if (client instanceof Cluster) client.on('node error', (err: Error, node: string) => report(err, node));
  return client;
}
