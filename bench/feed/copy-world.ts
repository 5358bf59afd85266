/**
 * Copies the feed bench world's Redis state (every key under `--from`, default
 * BENCH_REDIS_PREFIX or rrbenchfeed) to keys under `--to`, so that two apis can each serve
 * their own copy in feed-interleaved (BENCH_A_REDIS_PREFIX / BENCH_B_REDIS_PREFIX). With
 * --reencode-states, each copied user state is decoded and stored again by this checkout's
 * user-state code: the copy holds states in the form this build writes, while the
 * original keeps the form it was written in. One Redis server (not a cluster); the
 * Postgres side is shared. `--to`'s keys are deleted first.
 *
 *   npm run build && node dist/bench/feed/copy-world.js --to rrbenchfeed2 [--from rrbenchfeed] [--reencode-states]
 */
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { decodeUserState, encodeUserState } from '../../src/features/user-state';
import { createRedisClient } from '../../src/redis/redis-connection';
import { benchConfig } from '../bench-env';

const { values: args } = parseArgs({
  options: {
    from: { type: 'string', default: process.env.BENCH_REDIS_PREFIX ?? 'rrbenchfeed' },
    to: { type: 'string' },
    'reencode-states': { type: 'boolean', default: false },
  },
});
if (!args.to || args.to === args.from) throw new Error('--to: a prefix other than --from');
const config = benchConfig();
if (config.REDIS_CLUSTER_NODES) throw new Error('copy-world copies within one Redis server, not a cluster');
const from = `${args.from}:`;
const to = `${args.to}:`;
const STATE_KEY = /^.*:u:\{[^}]*\}:feat$/;

async function keysUnder(redis: Redis, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const batch of redis.scanStream({ match: `${prefix}*`, count: 5000 }) as AsyncIterable<string[]>) keys.push(...batch);
  return keys;
}

async function main(): Promise<void> {
  const redis = createRedisClient(config) as Redis;
  try {
    const stale = await keysUnder(redis, to);
    for (let i = 0; i < stale.length; i += 5000) await redis.unlink(...stale.slice(i, i + 5000));
    const keys = await keysUnder(redis, from);
    let states = 0;
    for (let i = 0; i < keys.length; i += 2000) {
      const batch = keys.slice(i, i + 2000);
      const copy = redis.pipeline();
      for (const key of batch) copy.copy(key, to + key.slice(from.length), 'REPLACE');
      await copy.exec();
      if (!args['reencode-states']) continue;
      const stateKeys = batch.filter((k) => STATE_KEY.test(k)).map((k) => to + k.slice(from.length));
      if (stateKeys.length === 0) continue;
      const raws = await redis.mgetBuffer(...stateKeys);
      const write = redis.pipeline();
      stateKeys.forEach((key, k) => {
        const raw = raws[k];
        if (raw) write.set(key, encodeUserState(decodeUserState(raw, config.EMBEDDING_DIM)), 'KEEPTTL');
      });
      await write.exec();
      states += stateKeys.length;
    }
    process.stdout.write(`[copy-world] ${keys.length} keys copied from ${args.from} to ${args.to}${args['reencode-states'] ? `, ${states} user states stored again in this build's form` : ''}\n`);
  } finally {
    redis.disconnect();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
