/**
 * Feed benchmark: a 100k-video / 10k-user world in its own database (seeded, trained
 * and replayed as the demo does), the api started
 * as a child process, autocannon with 50 connections on GET /v1/feed (500 ranked
 * candidates per request) alternating with GET /health/live as a same-run baseline.
 * Prints medians over the rounds and the per-stage breakdown from /metrics.
 *
 *   npm run build && node dist/bench/feed/feed-bench.js [--rounds 3] [--duration 15] [--processes 1] [--rates 10,100,250,400] [--rate-seconds 10] [--rate-warmup 5] [--events 1000]
 *
 * On a Redis Cluster, `--kill-master host:port` runs a failover probe instead of the rounds:
 * explained feeds at `--probe-rate` (50/s) for `--probe-seconds` (40), the master shut down
 * after 10 s, each page classed by whether the user's keys were on it (see failover-probe.ts).
 *
 * The per-stage breakdown is printed for single-process runs only. Every fixed-rate run
 * also prints a per-second timeline (latency next to the api's event-loop delay and GC
 * pauses, and the CPU of each process and of the whole machine) to give stalls a cause.
 *
 * Stores come from the app's validated config (REDIS_URL, DATABASE_URL, ...); the world
 * lives in its own database on that server. The timed phases start once the api's
 * /health/ready says it is warm (ANN index built; the model is warmed before it listens).
 *
 * The api runs with the node flags of package.json's start:api. Env: BENCH_API_NODE_ARGS (extra node flags for the api, e.g. --cpu-prof), BENCH_WORKER_NODE_ARGS (the same for the
 * background events' worker), BENCH_DATABASE_URL (default: DATABASE_URL's
 * server, database reelrank_bench_feed), BENCH_REDIS_PREFIX (rrbenchfeed), BENCH_PORT (default: a free port from the OS),
 * BENCH_VIDEOS (100000), BENCH_USERS (10000).
 */
import autocannon from 'autocannon';
import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { Agent, request as httpRequest } from 'node:http';
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Queue } from 'bullmq';
import { SignJWT } from 'jose';
import { Pool } from 'pg';
import { DataSource } from 'typeorm';
import { apiNodeArgs, benchApiEnv, benchConfig, DatabaseCpu, deleteAndVacuum, freePort, waitForReady, withDatabase } from '../bench-env';
import { bucketQuantile, bucketsBetween, histogram } from '../events-common';
import { openLoop, quantileMs } from '../open-loop';
import { StallTimeline, timelineTable } from './stall-timeline';
import { failoverProbe } from './failover-probe';
import { Cluster } from 'ioredis';
import { FALLBACK_VERSION } from '../../src/feed/feed.service';
import { dataSourceOptions } from '../../src/database/data-source-options';
import { ensureDatabase } from '../../src/database/ensure-database';
import { AnyRedis, createRedisClient } from '../../src/redis/redis-connection';
import { redisCpuSeconds, trackMasterLoad } from '../redis-load';
import { RedisKeys } from '../../src/redis/redis-keys';
import { eventQueueShardCount } from '../../src/queue/event-queue-shards';
import { QueueName } from '../../src/queue/queue.types';

const ROOT = join(__dirname, '..', '..', '..');

const { values: args } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    /** Open-loop fixed rates (feeds/s, comma-separated) for the latency-under-load table; '' skips it. */
    rates: { type: 'string', default: '10,100,250,400' },
    duration: { type: 'string', default: '15' },
    connections: { type: 'string', default: '50' },
    processes: { type: 'string', default: '1' },
    /** Seconds of each fixed-rate run. */
    'rate-seconds': { type: 'string', default: '10' },
    /** Seconds at each fixed rate before its measured run (not counted): what the saturated rounds left queued drains first. */
    'rate-warmup': { type: 'string', default: '5' },
    /** Background events/s (views and likes on popular videos) posted during the feed runs, with a worker applying them; 0: none. */
    events: { type: 'string', default: '0' },
    'kill-master': { type: 'string', default: '' },
    'probe-rate': { type: 'string', default: '50' },
    'probe-seconds': { type: 'string', default: '40' },
  },
});
const ROUNDS = Number(args.rounds);
const DURATION = Number(args.duration);
const CONNECTIONS = Number(args.connections);
/** 1: the api as `npm run start:api` runs it; N > 1: N api processes sharing the port (bench/feed/cluster-api.ts). */
const PROCESSES = Number(args.processes);
const RATES = args.rates ? args.rates.split(',').map(Number) : [];
const EVENTS_PER_SECOND = Number(args.events);
const EVENT_ID_PREFIX = `bench-${Date.now().toString(36)}`;
const RATE_SECONDS = Number(args['rate-seconds']);
const RATE_WARMUP_SECONDS = Number(args['rate-warmup']);
const MAX_EVENT_POSTS_IN_FLIGHT = 64;
const KILL_MASTER = args['kill-master'];
const config = benchConfig();
const DATABASE_URL = process.env.BENCH_DATABASE_URL ?? withDatabase(config.DATABASE_URL, 'reelrank_bench_feed');
const PREFIX = process.env.BENCH_REDIS_PREFIX ?? 'rrbenchfeed';
const VIDEOS = Number(process.env.BENCH_VIDEOS ?? 100_000);
const USERS = Number(process.env.BENCH_USERS ?? 10_000);
let PORT = 0;
let BASE = '';
const CLOCK_TICKS = 100;
let api: ChildProcess | null = null;
let worker: ChildProcess | null = null;
/** The worker's /metrics port (its event freshness histogram), 0 while there is no worker. */
let WORKER_METRICS_PORT = 0;

const log = (msg: string) => process.stdout.write(`[bench] ${msg}\n`);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function run(what: string, script: string, args: string[] = []): void {
  log(`${what}...`);
  const done = spawnSync('node', [join(ROOT, script), ...args], {
    env: { ...process.env, DATABASE_URL, REDIS_PREFIX: PREFIX },
    stdio: 'inherit',
  });
  if (done.status !== 0) throw new Error(`${what} failed`);
}

/** The demo's world at benchmark size: seed, train (item embeddings + ranker, activated), replay the log into Redis. */
async function prepareWorld(pool: Pool, redis: AnyRedis, keys: RedisKeys): Promise<void> {
  await ensureDatabase(DATABASE_URL);
  const ds = await new DataSource(dataSourceOptions({ DATABASE_URL, DATABASE_POOL_SIZE: 2 })).initialize();
  await ds.runMigrations({ transaction: 'each' });
  await ds.destroy();
  const [{ n }] = (await pool.query(`SELECT count(*)::int AS n FROM videos`)).rows;
  if (n < VIDEOS) run(`seeding ${VIDEOS} videos, ${USERS} users`, 'dist/seed/seed.js', ['--videos', String(VIDEOS), '--users', String(USERS)]);
  const { rowCount: trained } = await pool.query(`SELECT 1 FROM model_versions LIMIT 1`);
  if (!trained) run('training item embeddings and the ranker (npm run train)', 'dist/src/training/train.js');
  // The bench measures serving with an ONNX ranker: when the training guard kept the heuristic
  // ranker (the trained model lost on held-out NDCG), the newest trained model is activated anyway.
  const forced = await pool.query(
    `UPDATE model_versions SET status = 'active', activated_at = now()
      WHERE id = (SELECT id FROM model_versions ORDER BY created_at DESC LIMIT 1)
        AND NOT EXISTS (SELECT 1 FROM model_versions WHERE status = 'active') RETURNING id`,
  );
  if (forced.rowCount) log(`activated ${forced.rows[0].id} for the bench (the training guard had kept the heuristic ranker)`);
  if (!(await redis.exists(keys.trending('24h')))) run('rebuilding the online state from the log (npm run replay)', 'dist/src/cli/replay.js');
}

async function metricsText(): Promise<string> {
  return (await fetch(`${BASE}/metrics`)).text();
}

/** The worker, as `npm run start:worker` runs it, applying the background events. */
async function startWorker(): Promise<ChildProcess> {
  const nodeArgs = (process.env.BENCH_WORKER_NODE_ARGS ?? '').split(' ').filter(Boolean);
  WORKER_METRICS_PORT = await freePort();
  return spawn('node', [...nodeArgs, join(ROOT, 'dist/src/worker.js')], {
    env: { ...process.env, DATABASE_URL, REDIS_PREFIX: PREFIX, NODE_ENV: 'production', LOG_LEVEL: 'warn', WORKER_METRICS_PORT: String(WORKER_METRICS_PORT), RETRAIN_EVERY: 'off' },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
}

/**
 * Posts EVENTS_PER_SECOND events (batches of 10, a view or a like on one of the popular
 * videos, for a random user) every 100 ms until stopped: the engagement a live feed
 * sees, which the worker applies and announces, so the feed's stats cache refetches.
 */
function backgroundEvents(tokens: string[], videoIds: string[]): { stop: () => Promise<{ sent: number; failed: number; skipped: number }> } {
  const agent = new Agent({ keepAlive: true, maxSockets: 16 });
  const perTick = Math.max(1, Math.round(EVENTS_PER_SECOND / 10));
  let sent = 0;
  let failed = 0;
  // An api that cannot keep up would otherwise collect an unbounded backlog of posts.
  let skipped = 0;
  let n = 0;
  const inFlight = new Set<Promise<void>>();
  const post = (token: string, events: object[]) =>
    new Promise<void>((resolve) => {
      const body = JSON.stringify({ events });
      const req = httpRequest(
        { agent, host: '127.0.0.1', port: PORT, method: 'POST', path: '/v1/events', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } },
        (res) => {
          res.resume();
          res.on('end', () => {
            if (res.statusCode !== 202) failed += events.length;
            resolve();
          });
        },
      );
      req.on('error', () => {
        failed += events.length;
        resolve();
      });
      req.end(body);
    });
  const timer = setInterval(() => {
    for (let sentThisTick = 0; sentThisTick < perTick; sentThisTick += 10) {
      const token = tokens[Math.floor(Math.random() * tokens.length)];
      const events = Array.from({ length: Math.min(10, perTick - sentThisTick) }, () => {
        const videoId = videoIds[Math.floor(Math.random() * videoIds.length)];
        return Math.random() < 0.1 ? { eventId: `${EVENT_ID_PREFIX}-${n++}`, type: 'like', videoId } : { eventId: `${EVENT_ID_PREFIX}-${n++}`, type: 'view', videoId, watchMs: 3000 + Math.floor(Math.random() * 20000) };
      });
      if (inFlight.size >= MAX_EVENT_POSTS_IN_FLIGHT) {
        skipped += events.length;
        continue;
      }
      sent += events.length;
      const p = post(token, events);
      inFlight.add(p);
      void p.then(() => inFlight.delete(p));
    }
  }, 100);
  return {
    stop: async () => {
      clearInterval(timer);
      await Promise.all(inFlight);
      agent.destroy();
      return { sent, failed, skipped };
    },
  };
}

async function startApi(): Promise<ChildProcess> {
  const taken = await fetch(`${BASE}/health/live`).then(
    () => true,
    () => false,
  );
  if (taken) throw new Error(`something already listens on port ${PORT}: stop it or set BENCH_PORT`);
  const entry = PROCESSES > 1 ? 'dist/bench/feed/cluster-api.js' : 'dist/src/main.js';
  const nodeArgs = (process.env.BENCH_API_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const child = spawn('node', [...apiNodeArgs(), ...nodeArgs, join(ROOT, entry)], {
    env: benchApiEnv(DATABASE_URL, PREFIX, PORT, { API_PROCESSES: String(PROCESSES) }),
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const exited = new Promise<never>((_, reject) => child.once('exit', (code) => reject(new Error(`api exited with ${code}`))));
  exited.catch(() => undefined);
  try {
    // Each probe is a new connection, so with several processes every one of them gets asked.
    for (let probe = 0; probe < 4 * PROCESSES; probe++) await Promise.race([waitForReady(BASE), exited]);
    for (let probe = 0; probe < 4 * PROCESSES; probe++) {
      const text = await (await fetch(`${BASE}/metrics`, { headers: { connection: 'close' } })).text();
      const model = /^reelrank_model_active\{version="([^"]+)"\} 1/m.exec(text)?.[1];
      const ann = Number(/^reelrank_ann_index_elements (\S+)/m.exec(text)?.[1] ?? 0);
      if (!model || model === 'heuristic' || ann === 0) throw new Error(`api warm but not ranking with the trained model over the ANN index (model ${model}, ${ann} indexed)`);
    }
    return child;
  } catch (err) {
    child.kill('SIGKILL'); // never leave an api running behind a failed bench
    throw err;
  }
}

type Histograms = Map<string, { buckets: Map<number, number>; sum: number; count: number }>;

function parseHistogram(text: string, name: string, label: string): Histograms {
  const out: Histograms = new Map();
  const get = (key: string) => {
    let h = out.get(key);
    if (!h) out.set(key, (h = { buckets: new Map(), sum: 0, count: 0 }));
    return h;
  };
  for (const line of text.split('\n')) {
    const m = new RegExp(`^${name}_(bucket|sum|count)\\{([^}]*)\\} (\\S+)$`).exec(line);
    if (!m) continue;
    const labels = Object.fromEntries([...m[2].matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
    const h = get(labels[label]);
    if (m[1] === 'bucket') h.buckets.set(labels.le === '+Inf' ? Infinity : Number(labels.le), Number(m[3]));
    else if (m[1] === 'sum') h.sum = Number(m[3]);
    else h.count = Number(m[3]);
  }
  return out;
}

/** Mean and bucket-estimated p50/p99 (ms) of what was observed between two scrapes. */
function breakdown(before: Histograms, after: Histograms): Record<string, { mean: number; p50: number; p99: number; count: number }> {
  const result: Record<string, { mean: number; p50: number; p99: number; count: number }> = {};
  for (const [key, a] of after) {
    const b = before.get(key);
    const count = a.count - (b?.count ?? 0);
    if (count <= 0) continue;
    const les = [...a.buckets.keys()].sort((x, y) => x - y);
    const quantile = (q: number) => {
      let prevLe = 0;
      let prevCum = 0;
      for (const le of les) {
        const cum = a.buckets.get(le)! - (b?.buckets.get(le) ?? 0);
        if (cum >= q * count) {
          if (!Number.isFinite(le)) return prevLe * 1000;
          return (prevLe + ((le - prevLe) * (q * count - prevCum)) / Math.max(1, cum - prevCum)) * 1000;
        }
        prevLe = le;
        prevCum = cum;
      }
      return NaN;
    };
    result[key] = { mean: ((a.sum - (b?.sum ?? 0)) / count) * 1000, p50: quantile(0.5), p99: quantile(0.99), count };
  }
  return result;
}


/** This process's CPU (ms): autocannon, the load generator, runs here. */
const benchCpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

interface Run {
  requests: number;
  /** api process CPU (all threads) per request: less sensitive to a busy machine than latency. */
  cpuMsPerRequest: number;
  rps: number;
  p50: number;
  p90: number;
  p99: number;
  non2xx: number;
  errors: number;
}

/** CPU time (user + system, ms) used so far by the process and, with several api processes, its children. */
function cpuMs(pid: number): number {
  const own = (p: number | string) => {
    const fields = readFileSync(`/proc/${p}/stat`, 'utf8').split(') ')[1].split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
  };
  const children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean);
  return own(pid) + children.reduce((sum, c) => sum + own(c), 0);
}

/** `duration` seconds, or with `amount` exactly that many requests. */
async function cannon(path: string, tokens: string[] | null, duration: number, amount?: number): Promise<Run> {
  let next = 0;
  const cpuBefore = api?.pid ? cpuMs(api.pid) : 0;
  const result = await autocannon({
    url: BASE,
    connections: CONNECTIONS,
    ...(amount ? { amount } : { duration }),
    requests: [
      {
        method: 'GET',
        path,
        setupRequest: (req) =>
          tokens ? { ...req, headers: { ...req.headers, authorization: `Bearer ${tokens[next++ % tokens.length]}` } } : req,
      },
    ],
  });
  return {
    cpuMsPerRequest: api?.pid ? (cpuMs(api.pid) - cpuBefore) / Math.max(1, result.requests.total) : NaN,
    rps: result.requests.total / result.duration,
    p50: result.latency.p50,
    p90: result.latency.p90,
    p99: result.latency.p99,
    requests: result.requests.total,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
  };
}

/**
 * GET /v1/feed at a fixed rate, open loop: request i is sent at t0 + i / rate whatever
 * happened to the ones before, and its latency counts from when it was due (so a stall
 * shows in every request queued behind it). Latency as a client sees it at that load,
 * unlike the 50-connection runs, whose latency is mostly their own queue (Little's law:
 * 50 in flight at X/s is 50/X s each on average).
 */
async function paced(tokens: string[], rate: number, seconds: number, redis: AnyRedis, postgres: DatabaseCpu | null) {
  const request = (i: number) => ({ method: 'GET' as const, path: '/v1/feed', headers: { authorization: `Bearer ${tokens[i % tokens.length]}` } });
  // At the rate first, unmeasured: the backlog of what ran before (the saturated rounds' queued events, the worker catching up) is not this rate's.
  if (RATE_WARMUP_SECONDS > 0) await openLoop(PORT, rate, RATE_WARMUP_SECONDS, (i) => request(i + Math.floor(tokens.length / 2)));
  const timeline = new StallTimeline(`${BASE}/metrics`, { api: api?.pid, worker: worker?.pid }, redis, postgres);
  const freshnessBefore = await eventFreshness();
  await timeline.start();
  const cpuBefore = api?.pid ? cpuMs(api.pid) : 0;
  const loopStarted = performance.now();
  const { sent, latencies, dueAt, non2xx } = await openLoop(PORT, rate, seconds, request);
  const cpuMsPerRequest = api?.pid ? (cpuMs(api.pid) - cpuBefore) / sent : NaN;
  await timeline.stop();
  const freshnessAfter = await eventFreshness();
  const q = (p: number) => quantileMs(latencies, p);
  return {
    rate,
    p50: q(0.5),
    p90: q(0.9),
    p99: q(0.99),
    max: q(1),
    non2xx,
    cpuMsPerRequest,
    freshness: freshnessAfter && freshnessBefore ? freshnessReport(freshnessBefore, freshnessAfter) : '',
    timeline: PROCESSES === 1 ? timelineTable(timeline.samples, dueAt.map((t) => t + loopStarted - timeline.started), latencies) : '',
  };
}

/** The worker's event freshness histogram (acceptance by the api to the user's online state updated), or null without a worker. */
async function eventFreshness(): Promise<{ le: number; count: number }[] | null> {
  if (!worker || WORKER_METRICS_PORT === 0) return null;
  try {
    return histogram(await (await fetch(`http://127.0.0.1:${WORKER_METRICS_PORT}/metrics`)).text(), 'reelrank_event_freshness_seconds');
  } catch {
    return null;
  }
}

/** How fresh the events applied between two scrapes were: count and bucket-estimated p50 / p99. */
function freshnessReport(before: { le: number; count: number }[], after: { le: number; count: number }[]): string {
  const delta = bucketsBetween(before, after);
  const applied = delta[delta.length - 1]?.count ?? 0;
  const ms = (q: number) => (bucketQuantile(delta, q) * 1000).toFixed(0);
  return `events applied ${applied}, freshness ~p50 ${ms(0.5)} ms, ~p99 ${ms(0.99)} ms`;
}

/** Quartiles of the watched-set sizes of 200 users spread over the world: a user at the cap costs a feed more than the seed's typical user. */
async function watchedSizes(redis: AnyRedis, keys: RedisKeys, userIds: string[]): Promise<string> {
  const picked = Array.from({ length: 200 }, (_, i) => userIds[Math.floor((i * userIds.length) / 200)]);
  const sizes = (await Promise.all(picked.map((id) => redis.zcard(keys.userSeen(id))))).sort((a, b) => a - b);
  const q = (p: number) => sizes[Math.min(sizes.length - 1, Math.floor(p * sizes.length))];
  return `min ${sizes[0]}, quartiles ${q(0.25)} / ${q(0.5)} / ${q(0.75)}, max ${sizes[sizes.length - 1]} (200 users)`;
}

async function main(): Promise<void> {
  PORT = Number(process.env.BENCH_PORT ?? (await freePort()));
  BASE = `http://127.0.0.1:${PORT}`;
  const pool = new Pool({ connectionString: DATABASE_URL, max: 4 });
  const redis = createRedisClient(config);
  let postgres: DatabaseCpu | null = null;
  const keys = new RedisKeys(PREFIX);
  let benchStarted = Date.now();
  try {
    await prepareWorld(pool, redis, keys);
    benchStarted = Date.now();
    const opened = await DatabaseCpu.open(DATABASE_URL);
    postgres = opened.cpu;
    if (!postgres) log(`Postgres CPU not counted: ${opened.why}`);
    log(`stores: ${DATABASE_URL.replace(/\/\/[^@]*@/, '//')}, ${config.REDIS_CLUSTER_NODES ? `Redis Cluster ${config.REDIS_CLUSTER_NODES}` : config.REDIS_URL.replace(/\/\/[^@]*@/, '//')} prefix ${PREFIX}; api on port ${PORT}`);
    const secret = new TextEncoder().encode(config.JWT_SECRET);
    const userIds = Array.from({ length: USERS }, (_, i) => `u_${String(i + 1).padStart(7, '0')}`);
    const tokens = await Promise.all(userIds.map((id) => new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject(id).setExpirationTime('2h').sign(secret)));
    log(`users' watched sets (what each feed reads and filters by; capped at USER_SEEN_MAX, ${config.USER_SEEN_MAX}): ${await watchedSizes(redis, keys, userIds)}`);
    const bootStarted = Date.now();
    api = await startApi();
    log(`api ready (ANN index built, model warm) in ${((Date.now() - bootStarted) / 1000).toFixed(1)} s; load average ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
    const sample = (await (await fetch(`${BASE}/v1/feed?limit=20`, { headers: { authorization: `Bearer ${tokens[0]}` } })).json()) as { items: { source: string }[] };
    log(`sample page: ${sample.items.length} items, sources ${[...new Set(sample.items.map((i: { source: string }) => i.source))].join(', ')}`);
    // Warm-up: every user once (JIT, and the per-user follows/blocks cache, as for returning users).
    const warm = await cannon('/v1/feed', tokens, 0, tokens.length);
    log(`warm-up: ${tokens.length} feeds at ${warm.rps.toFixed(0)} req/s (p99 ${warm.p99} ms)`);
    if (KILL_MASTER) {
      if (!(redis instanceof Cluster)) throw new Error('--kill-master needs REDIS_CLUSTER_NODES');
      const report = await failoverProbe({
        port: PORT,
        adminKey: config.ADMIN_API_KEY,
        redis,
        keys,
        killMaster: KILL_MASTER,
        users: userIds.slice(0, 1000).map((id, i) => ({ id, token: tokens[i] })),
        perSecond: Number(args['probe-rate']),
        killAfterSeconds: 10,
        seconds: Number(args['probe-seconds']),
        fallbackVersion: FALLBACK_VERSION,
      });
      log(`failover probe (load average ${loadavg().map((x) => x.toFixed(2)).join(' ')}):\n\n${report}\n`);
      return;
    }
    let events: ReturnType<typeof backgroundEvents> | null = null;
    if (EVENTS_PER_SECOND > 0) {
      worker = await startWorker();
      const popular = (await pool.query(`SELECT video_id FROM interactions GROUP BY video_id ORDER BY count(*) DESC LIMIT 5000`)).rows.map((r) => r.video_id as string);
      events = backgroundEvents(tokens, popular);
      log(`background: ${EVENTS_PER_SECOND} events/s on the ${popular.length} most engaged videos, applied by a worker process`);
    }
    const health: Run[] = [];
    const feed: Run[] = [];
    // With several processes /metrics answers from one of them: the breakdown is shown for a single process only.
    const before = PROCESSES === 1 ? await metricsText() : '';
    // Where a saturated feed's CPU goes, counted over the feed runs only: api, Redis, Postgres, load generator.
    const cpu = { api: 0, redis: 0, postgres: 0, postgresLost: 0, bench: 0 };
    // Commands per Redis master over the saturated rounds (one row on a single node).
    const roundsLoad = await trackMasterLoad(redis);
    for (let round = 1; round <= ROUNDS; round++) {
      health.push(await cannon('/health/live', null, Math.max(5, Math.round(DURATION / 2))));
      const [redis0, pg, bench0] = [await redisCpuSeconds(redis), postgres?.track(), benchCpuMs()];
      feed.push(await cannon('/v1/feed', tokens, DURATION));
      cpu.redis += ((await redisCpuSeconds(redis)) - redis0) * 1000;
      if (pg) {
        const { ms, lost } = await pg.stop();
        cpu.postgres += ms;
        cpu.postgresLost += lost;
      }
      cpu.bench += benchCpuMs() - bench0;
      cpu.api += feed.at(-1)!.cpuMsPerRequest * feed.at(-1)!.requests;
      const [h, f] = [health.at(-1)!, feed.at(-1)!];
      log(
        `round ${round}: health ${h.rps.toFixed(0)} req/s p99 ${h.p99} ms | feed ${f.rps.toFixed(0)} req/s p50 ${f.p50} p90 ${f.p90} p99 ${f.p99} ms, ` +
          `${f.cpuMsPerRequest.toFixed(2)} CPU ms/request, non-2xx ${f.non2xx}, errors ${f.errors}`,
      );
    }
    const perMaster = await roundsLoad();
    log(`Redis commands per master over the saturated rounds: ${perMaster.map((m) => `${m.master} ${m.calls} (${(m.share * 100).toFixed(0)}%; ${Object.entries(m.top).map(([c, n]) => `${c} ${n}`).join(', ')})`).join(' | ')}`);
    const after = PROCESSES === 1 ? await metricsText() : '';
    const atRates = [];
    const stagesAtRates: Record<string, { mean: number; p50: number; p99: number; count: number }>[] = [];
    for (const rate of RATES) {
      const m0 = PROCESSES === 1 ? await metricsText() : '';
      const r = await paced(tokens, rate, RATE_SECONDS, redis, postgres);
      if (PROCESSES === 1) {
        const m1 = await metricsText();
        stagesAtRates.push(breakdown(parseHistogram(m0, 'reelrank_feed_stage_seconds', 'stage'), parseHistogram(m1, 'reelrank_feed_stage_seconds', 'stage')));
      }
      log(`fixed rate ${rate}/s: p50 ${r.p50} p90 ${r.p90} p99 ${r.p99} max ${r.max} ms, non-2xx ${r.non2xx}, ${r.cpuMsPerRequest.toFixed(2)} CPU ms/request${r.freshness ? `; ${r.freshness}` : ''}`);
      if (r.timeline) log(`fixed rate ${rate}/s, second by second (CPU ms in each interval; machine = all cores, others = machine minus this stack):\n\n${r.timeline}\n`);
      atRates.push(r);
    }
    if (events) {
      const { sent, failed, skipped } = await events.stop();
      log(
        `background events during the saturated rounds and the fixed-rate runs: ${sent} sent, ${failed} not accepted, ` +
          `${skipped} not sent (${MAX_EVENT_POSTS_IN_FLIGHT} posts already in flight: the api was not keeping up)`,
      );
      events = null;
    }
    const feedRequests = feed.reduce((sum, r) => sum + r.requests, 0);
    const perFeed = (ms: number) => (ms / Math.max(1, feedRequests)).toFixed(3);
    const cacheLookups = (text: string, result: string) => Number(new RegExp(`^reelrank_feed_stats_cache_total\\{result="${result}"\\} (\\S+)$`, 'm').exec(text)?.[1] ?? 0);
    const hits = cacheLookups(after, 'hit') - cacheLookups(before, 'hit');
    const misses = cacheLookups(after, 'miss') - cacheLookups(before, 'miss');
    const stages = breakdown(
      parseHistogram(before, 'reelrank_feed_stage_seconds', 'stage'),
      parseHistogram(after, 'reelrank_feed_stage_seconds', 'stage'),
    );
    const sources = breakdown(
      parseHistogram(before, 'reelrank_feed_source_seconds', 'source'),
      parseHistogram(after, 'reelrank_feed_source_seconds', 'source'),
    );
    const fallbackCounts = (text: string) => new Map([...text.matchAll(/^reelrank_feed_fallback_total\{reason="(\w+)"\} (\S+)$/gm)].map((m) => [m[1], Number(m[2])]));
    const [fallbacksBefore, fallbacksAfter] = [fallbackCounts(before), fallbackCounts(after)];
    const fallbacks = [...fallbacksAfter].map(([reason, n]) => `${reason}=${n - (fallbacksBefore.get(reason) ?? 0)} (${n} since boot, warm-up included)`);
    const pick = (runs: Run[], k: keyof Run) => median(runs.map((r) => r[k]));
    const table = [
      `| endpoint | req/s | p50 ms | p90 ms | p99 ms | non-2xx | api CPU ms/request |`,
      `|---|---|---|---|---|---|---|`,
      `| GET /health/live (baseline) | ${pick(health, 'rps').toFixed(0)} | ${pick(health, 'p50')} | ${pick(health, 'p90')} | ${pick(health, 'p99')} | ${health.reduce((s, r) => s + r.non2xx, 0)} | ${pick(health, 'cpuMsPerRequest').toFixed(3)} |`,
      `| GET /v1/feed (500 candidates) | ${pick(feed, 'rps').toFixed(0)} | ${pick(feed, 'p50')} | ${pick(feed, 'p90')} | ${pick(feed, 'p99')} | ${feed.reduce((s, r) => s + r.non2xx, 0)} | ${pick(feed, 'cpuMsPerRequest').toFixed(3)} |`,
      '',
      `| feed stage (server side) | mean ms | ~p50 ms | ~p99 ms |`,
      `|---|---|---|---|`,
      ...Object.entries(stages).map(([s, v]) => `| ${s} | ${v.mean.toFixed(3)} | ${v.p50.toFixed(3)} | ${v.p99.toFixed(3)} |`),
      '',
      `| candidate source | mean ms | ~p99 ms |`,
      `|---|---|---|`,
      ...Object.entries(sources).map(([s, v]) => `| ${s} | ${v.mean.toFixed(3)} | ${v.p99.toFixed(3)} |`),
    ];
    if (atRates.length) {
      table.push(
        '',
        `| open-loop fixed rate, ${RATE_SECONDS} s each | p50 ms | p90 ms | p99 ms | max ms | non-2xx | api CPU ms/request |`,
        `|---|---|---|---|---|---|---|`,
        ...atRates.map((r) => `| ${r.rate} feeds/s | ${r.p50} | ${r.p90} | ${r.p99} | ${r.max} | ${r.non2xx} | ${r.cpuMsPerRequest.toFixed(2)} |`),
      );
      if (stagesAtRates.length) {
        table.push(
          '',
          `| feed stage, mean ms (~p99) at | ${RATES.map((r) => `${r} feeds/s`).join(' | ')} |`,
          `|---|${RATES.map(() => '---').join('|')}|`,
          ...Object.keys(stagesAtRates[0]).map(
            (stage) => `| ${stage} | ${stagesAtRates.map((b) => (b[stage] ? `${b[stage].mean.toFixed(2)} (${b[stage].p99.toFixed(1)})` : '–')).join(' | ')} |`,
          ),
        );
      }
    }
    log(`medians over ${ROUNDS} rounds of ${DURATION} s, ${CONNECTIONS} connections, ${PROCESSES} api process(es):\n\n${table.join('\n')}\n`);
    log(
      `CPU per saturated feed request: api ${perFeed(cpu.api)} ms, Redis ${perFeed(cpu.redis)} ms (INFO cpu), Postgres ${postgres ? `${perFeed(cpu.postgres)} ms` : 'not counted'} ` +
        `(this database's backends, sampled every 0.5 s${cpu.postgresLost ? `; ${cpu.postgresLost} exited, their last < 0.5 s uncounted` : ''}), load generator ${perFeed(cpu.bench)} ms; total ${perFeed(cpu.api + cpu.redis + cpu.postgres + cpu.bench)} ms` +
        (PROCESSES === 1 ? `; stats near cache hit ratio ${((100 * hits) / Math.max(1, hits + misses)).toFixed(1)}% of ${hits + misses} lookups` : ''),
    );
    log(`fallbacks during the saturated rounds: ${fallbacks.join(', ') || 'none'}; load average ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
  } finally {
    for (const child of [worker, api]) {
      if (child && child.exitCode === null) {
        child.kill('SIGTERM');
        await new Promise((r) => child.once('exit', r));
      }
    }
    if (EVENTS_PER_SECOND > 0) {
      // Events the worker had not applied yet would be applied by the next run's worker: drop them.
      const connection = redis.duplicate();
      const shards = eventQueueShardCount(config);
      for (let shard = 0; shard < shards; shard++) {
        const queue = new Queue(QueueName.Events, { connection, prefix: keys.eventQueuePrefix(shard, shards) });
        await queue.obliterate({ force: true });
        await queue.close();
      }
      connection.disconnect();
      // The online state keeps their effect until the next `npm run replay`; the log drops them (an earlier run's too).
      const deleted = await deleteAndVacuum(pool, 'interactions', `event_id LIKE 'bench-%'`, []);
      log(`background events logged by the worker (deleted, with any left by earlier runs): ${deleted}`);
    }
    // The run's impressions carry no engagement: delete them so they never reach training and reruns start alike.
    const deleted = await deleteAndVacuum(pool, 'impressions', `served_at >= $1 AND source <> 'seed'`, [new Date(benchStarted)]);
    log(`impressions the api logged during the run (written, then deleted and vacuumed): ${deleted}`);
    await pool.end();
    await redis.quit();
    await postgres?.close();
  }
}

main().catch((err) => {
  process.stderr.write(`feed bench failed: ${(err as Error).stack}\n`);
  process.exit(1);
});
