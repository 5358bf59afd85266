/**
 * What a user's watched set costs a feed: on the feed bench's world, the first 1,000 users'
 * watched sets are filled to USER_SEEN_MAX (the cap the event pipeline keeps) and bursts at
 * a fixed rate alternate between them and 1,000 users left as the seed made them (a few
 * dozen watched videos each). Prints the api's and Redis's CPU per feed of each group.
 * The filled sets are put back as they were at the end (DUMP / RESTORE), so the world's
 * other benchmarks are unchanged.
 *
 *   npm run build && node dist/bench/feed/watched-sets.js [--rate 200] [--seconds 6] [--pairs 6]
 *
 * The world must exist: run dist/bench/feed/feed-bench.js once first (same env).
 */
import autocannon from 'autocannon';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { SignJWT } from 'jose';
import { Pool } from 'pg';
import { createRedisClient } from '../../src/redis/redis-connection';
import { RedisKeys } from '../../src/redis/redis-keys';
import { apiNodeArgs, benchApiEnv, benchConfig, freePort, procCpuMs, waitForReady, withDatabase } from '../bench-env';
import { redisCpuSeconds } from '../redis-load';

const { values: args } = parseArgs({
  options: {
    rate: { type: 'string', default: '200' },
    seconds: { type: 'string', default: '6' },
    pairs: { type: 'string', default: '6' },
  },
});
const config = benchConfig();
const DATABASE_URL = process.env.BENCH_DATABASE_URL ?? withDatabase(config.DATABASE_URL, 'reelrank_bench_feed');
const PREFIX = process.env.BENCH_REDIS_PREFIX ?? 'rrbenchfeed';
const GROUP = 1000;

const log = (msg: string) => process.stdout.write(`[watched] ${msg}\n`);
const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)];
const userId = (i: number) => `u_${String(i + 1).padStart(7, '0')}`;

async function main(): Promise<void> {
  const redis = createRedisClient(config);
  const keys = new RedisKeys(PREFIX);
  const full = Array.from({ length: GROUP }, (_, i) => userId(i));
  const seeded = Array.from({ length: GROUP }, (_, i) => userId(5000 + i));
  const pool = new Pool({ connectionString: DATABASE_URL, max: 1 });
  const videoIds = (await pool.query<{ id: string }>("SELECT id FROM videos WHERE status = 'active' ORDER BY id")).rows.map((r) => r.id);
  await pool.end();
  if (videoIds.length < config.USER_SEEN_MAX) throw new Error(`the world has ${videoIds.length} videos: run feed-bench first`);

  const saved = new Map<string, Buffer | null>();
  for (const id of full) saved.set(id, await redis.dumpBuffer(keys.userSeen(id)));
  let api: ReturnType<typeof spawn> | null = null;
  try {
    const now = Date.now();
    for (const [u, id] of full.entries()) {
      const members: (string | number)[] = [];
      for (let j = 0; j < config.USER_SEEN_MAX; j++) members.push(now - 86_400_000 + j * 1000, videoIds[(u * 7919 + j * 104_729) % videoIds.length]);
      await redis.zadd(keys.userSeen(id), ...members);
    }
    const sizes = async (ids: string[]) => median(await Promise.all(ids.slice(0, 50).map((id) => redis.zcard(keys.userSeen(id)))));
    log(`watched videos per user (median of 50): filled ${await sizes(full)}, seeded ${await sizes(seeded)}`);

    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    api = spawn('node', [...apiNodeArgs(), join(__dirname, '..', '..', 'src', 'main.js')], { env: benchApiEnv(DATABASE_URL, PREFIX, port), stdio: ['ignore', 'ignore', 'inherit'] });
    await waitForReady(base);
    const secret = new TextEncoder().encode(config.JWT_SECRET);
    const sign = (id: string) => new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject(id).setExpirationTime('2h').sign(secret);
    const tokens = { full: await Promise.all(full.map(sign)), seeded: await Promise.all(seeded.map(sign)) };
    const pid = api.pid!;
    const burst = async (group: 'full' | 'seeded', opts: { amount?: number; duration?: number; overallRate?: number }) => {
      let next = 0;
      const [apiBefore, redisBefore] = [procCpuMs(pid)!, await redisCpuSeconds(redis)];
      const result = await autocannon({
        url: base,
        connections: 20,
        ...opts,
        requests: [{ method: 'GET', path: '/v1/feed', setupRequest: (req) => ({ ...req, headers: { ...req.headers, authorization: `Bearer ${tokens[group][next++ % GROUP]}` } }) }],
      });
      const feeds = Math.max(1, result.requests.total);
      return { api: (procCpuMs(pid)! - apiBefore) / feeds, redis: ((await redisCpuSeconds(redis)) - redisBefore) * 1000 / feeds, non2xx: result.non2xx };
    };
    for (const group of ['full', 'seeded'] as const) await burst(group, { amount: 2 * GROUP });
    const runs = { full: [] as { api: number; redis: number }[], seeded: [] as { api: number; redis: number }[] };
    for (let pair = 0; pair < Number(args.pairs); pair++) {
      for (const group of pair % 2 === 0 ? (['full', 'seeded'] as const) : (['seeded', 'full'] as const)) {
        const r = await burst(group, { duration: Number(args.seconds), overallRate: Number(args.rate) });
        runs[group].push(r);
        log(`pair ${pair + 1} ${group}: api ${r.api.toFixed(3)} ms/feed, Redis ${r.redis.toFixed(3)} ms/feed, non-2xx ${r.non2xx}`);
      }
    }
    for (const group of ['full', 'seeded'] as const) {
      log(`${group}: median api CPU ${median(runs[group].map((r) => r.api)).toFixed(3)} ms per feed, Redis ${median(runs[group].map((r) => r.redis)).toFixed(3)} ms (${args.pairs} bursts of ${args.seconds} s at ${args.rate} feeds/s)`);
    }
  } finally {
    if (api && api.exitCode === null) {
      api.kill('SIGTERM');
      await new Promise((r) => api!.once('exit', r));
    }
    for (const [id, dump] of saved) {
      await redis.del(keys.userSeen(id));
      if (dump) await redis.restore(keys.userSeen(id), 0, dump);
    }
    log(`watched sets of the ${saved.size} filled users put back`);
    redis.disconnect();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
