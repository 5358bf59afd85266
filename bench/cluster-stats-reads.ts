/**
 * Per-key video-stats reads on a Redis Cluster while one master is shut down: the read the
 * feed makes (readStatsEach: one GET per key, each failing by itself) in a loop, with the
 * feed's budget (25 ms, 500 keys) or the popularity refresh's (5 s, 2,000 keys). Prints,
 * per second, the reads, those with unreadable keys, the mean read time and the first error.
 * Needs the seed world's stats in the cluster (the feed bench's replay) under --prefix.
 *
 *   REDIS_CLUSTER_NODES=127.0.0.1:7301,... node dist/bench/cluster-stats-reads.js \
 *     --prefix rrscale --kill 127.0.0.1:7301 [--keys 500] [--budget 25] [--kill-after 5] [--seconds 25]
 */
import { Cluster, Redis } from 'ioredis';
import { parseArgs } from 'node:util';
import { benchConfig } from './bench-env';
import { getBuffersEach } from '../src/feed/support/redis-guard';
import { createRedisClient, logClientErrors } from '../src/redis/redis-connection';
import { RedisKeys } from '../src/redis/redis-keys';
import { videoId } from '../seed/world';

const { values: args } = parseArgs({
  options: {
    prefix: { type: 'string', default: 'rrscale' },
    kill: { type: 'string' },
    keys: { type: 'string', default: '500' },
    budget: { type: 'string', default: '25' },
    'kill-after': { type: 'string', default: '5' },
    seconds: { type: 'string', default: '25' },
    /** Videos in the seeded world; the keys read are spread over them. */
    videos: { type: 'string', default: '100000' },
  },
});

interface Second {
  reads: number;
  partial: number;
  unreadable: number;
  ms: number;
  error: string;
}

async function main(): Promise<void> {
  const config = benchConfig();
  if (!config.REDIS_CLUSTER_NODES || !args.kill) throw new Error('set REDIS_CLUSTER_NODES and --kill host:port');
  const redis = logClientErrors(createRedisClient(config) as Cluster, 'bench');
  const keys = new RedisKeys(args.prefix);
  const n = Number(args.keys);
  const budget = Number(args.budget);
  const step = Math.max(1, Math.floor(Number(args.videos) / n));
  const statsKeys = Array.from({ length: n }, (_, i) => keys.videoStats(videoId(1 + i * step)));
  await new Promise((resolve) => (redis.status === 'ready' ? resolve(null) : redis.once('ready', resolve)));
  const seconds: Second[] = [];
  const t0 = Date.now();
  let killed = false;
  while (Date.now() - t0 < Number(args.seconds) * 1000) {
    const s = Math.floor((Date.now() - t0) / 1000);
    if (!killed && s >= Number(args['kill-after'])) {
      killed = true;
      const [host, port] = args.kill.split(':');
      const victim = new Redis({ host, port: Number(port), lazyConnect: true, retryStrategy: () => null });
      victim.on('error', () => undefined);
      void victim
        .connect()
        .then(() => victim.call('SHUTDOWN', 'NOSAVE'))
        .catch(() => undefined)
        .finally(() => victim.disconnect());
    }
    const started = Date.now();
    const read = await getBuffersEach(redis, statsKeys, budget);
    const row = (seconds[s] ??= { reads: 0, partial: 0, unreadable: 0, ms: 0, error: '' });
    row.reads++;
    row.ms += Date.now() - started;
    if (read.failed > 0) {
      row.partial++;
      row.unreadable += read.failed;
      row.error ||= (read.error?.message ?? '').slice(0, 70);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  const rows = ['| second | reads | with unreadable keys | unreadable keys | mean ms a read | first error |', '|---|---|---|---|---|---|'];
  seconds.forEach((r, s) => r && rows.push(`| ${s} | ${r.reads} | ${r.partial} | ${r.unreadable} | ${(r.ms / r.reads).toFixed(0)} | ${r.error.replace(/\|/g, '/')} |`));
  process.stdout.write(`${n} keys a read, budget ${budget} ms, ${args.kill} shut down at ${args['kill-after']} s:\n\n${rows.join('\n')}\n`);
  redis.disconnect();
}

main().catch((err) => {
  process.stderr.write(`cluster stats reads bench failed: ${(err as Error).stack}\n`);
  process.exit(1);
});
