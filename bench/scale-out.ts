import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ChildProcess } from 'node:child_process';
import { cpus } from 'node:os';
import { Pool } from 'pg';
import { CoreModule } from '../src/app/core.module';
import { AppConfig } from '../src/config/app-config';
import { EventQueuesRepository } from '../src/events/event-queues.repository';
import { EventQueueShards } from '../src/queue/event-queue-shards';
import { EventsModule } from '../src/events/events.module';
import { ReplayService } from '../src/events/replay.service';
import { benchConfig, freePort, waitForReady } from './bench-env';
import { clearPrefix, deleteBenchInteractions, log, queueBacklog, startProcess, stopProcess, tokens, videoIds, waitForHttp } from './events-common';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const autocannon = require('autocannon');

/**
 * Scale-out capacity: the same work with one and with two processes.
 *  - events: a backlog of BENCH_EVENTS events (BENCH_USERS users) is queued, then 1 or 2
 *    worker processes drain it (user state, video stats, trending, seen, Postgres log).
 *  - feeds: GET /v1/feed as the seeded users (their state replayed from the log into
 *    Redis first, ranked by the active model) with BENCH_CONNECTIONS connections split
 *    over 1 or 2 api processes for BENCH_SECONDS, next to GET /health/live over the same
 *    processes.
 * Each configuration runs BENCH_ROUNDS times; medians are printed. Needs a seeded
 * database (npm run seed) and a build (npm run build).
 *
 *   node dist/bench/scale-out.js   (env: BENCH_EVENTS=60000 BENCH_USERS=1000 BENCH_SECONDS=10
 *                                   BENCH_CONNECTIONS=50 BENCH_ROUNDS=3 BENCH_ONLY=events|feeds; ports are free ones from the OS)
 */

const PREFIX = 'rrbench-scale';
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

@Module({ imports: [CoreModule, EventsModule] })
class ProducerModule {}

const start = (entry: 'main' | 'worker', env: NodeJS.ProcessEnv) => startProcess(entry, { REDIS_PREFIX: PREFIX, ...env });
const stop = (children: ChildProcess[]) => Promise.all(children.map(stopProcess));

async function clearBenchState(config: AppConfig): Promise<void> {
  await clearPrefix(config, PREFIX);
  await deleteBenchInteractions(config, PREFIX);
}

/** Users of the seeded world (feeds are requested as them). */
async function seededUsers(config: AppConfig): Promise<string[]> {
  const pool = new Pool({ connectionString: config.DATABASE_URL, max: 1 });
  try {
    return (await pool.query(`SELECT id FROM users ORDER BY id LIMIT 2000`)).rows.map((r: { id: string }) => r.id);
  } finally {
    await pool.end();
  }
}

/** Seconds for `workers` worker processes to drain a backlog of `total` events. */
async function drainSeconds(config: AppConfig, workers: number, total: number, userCount: number, videos: string[]) {
  await clearBenchState(config);
  process.env.REDIS_PREFIX = PREFIX;
  const ctx = await NestFactory.createApplicationContext(ProducerModule, { logger: ['error'] });
  const children: ChildProcess[] = [];
  try {
    const queues = ctx.get(EventQueuesRepository);
    const users = Array.from({ length: userCount }, (_, i) => `${PREFIX}-u${i}`);
    const seq = await queueBacklog(queues, users, videos, total, Date.now());
    const shards = ctx.get(EventQueueShards).queues;
    // Workers boot with the queues paused so the clock starts when all of them can take jobs.
    await Promise.all(shards.map((q) => q.pause()));
    const metricsPorts = await freePorts(workers);
    for (const port of metricsPorts) children.push(start('worker', { WORKER_METRICS_PORT: String(port) }));
    await Promise.all(metricsPorts.map((port) => waitForHttp(`http://127.0.0.1:${port}/metrics`)));
    const t0 = Date.now();
    await Promise.all(shards.map((q) => q.resume()));
    for (;;) {
      const counts = (await queues.jobCounts()).events;
      if (counts.waiting + counts.active + counts.delayed + counts.prioritized === 0) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    return { events: seq, seconds: (Date.now() - t0) / 1000 };
  } finally {
    await stop(children);
    await ctx.close();
  }
}

interface LoadResult {
  reqPerSec: number;
  p50: number;
  p99: number;
  non2xx: number;
  errors: number;
}

/** Runs autocannon against every port at once, `connections` split between them; sums throughput. */
async function load(ports: number[], pathFor: (i: number) => string, auth: string[], connections: number, seconds: number): Promise<LoadResult> {
  let n = 0;
  const results = await Promise.all(
    ports.map((port) =>
      autocannon({
        url: `http://127.0.0.1:${port}`,
        connections: Math.max(1, Math.round(connections / ports.length)),
        duration: seconds,
        requests: [
          {
            method: 'GET',
            setupRequest: (req: Record<string, unknown>) => {
              const i = n++;
              return { ...req, path: pathFor(i), headers: { authorization: `Bearer ${auth[i % auth.length]}` } };
            },
          },
        ],
      }),
    ),
  );
  return {
    reqPerSec: Math.round(results.reduce((a, r) => a + r.requests.average, 0)),
    p50: Math.max(...results.map((r) => r.latency.p50)),
    p99: Math.max(...results.map((r) => r.latency.p99)),
    non2xx: results.reduce((a, r) => a + r.non2xx, 0),
    errors: results.reduce((a, r) => a + r.errors, 0),
  };
}

/** `n` distinct ports the OS says are free. */
async function freePorts(n: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < n) ports.add(await freePort());
  return [...ports];
}

/** Online state for the seeded users: the replay command's rebuild of Redis from the logged interactions. */
async function replaySeededLog(): Promise<void> {
  process.env.REDIS_PREFIX = PREFIX;
  const ctx = await NestFactory.createApplicationContext(ProducerModule, { logger: ['error'] });
  try {
    const report = await ctx.get(ReplayService).rebuild();
    log(`replayed ${report.events} logged events of ${report.users} users into Redis`);
  } finally {
    await ctx.close();
  }
}

async function feeds(config: AppConfig, apis: number, users: string[], rounds: number, seconds: number, connections: number) {
  const ports = await freePorts(apis);
  const children = ports.map((port) => start('main', { PORT: String(port), HOST: '127.0.0.1', WORKER_METRICS_PORT: '0' }));
  try {
    // Ready means warm: the ANN index, built on a worker thread after boot, is serving.
    await Promise.all(ports.map((port) => waitForReady(`http://127.0.0.1:${port}`)));
    const auth = await tokens(config, users);
    await load(ports, () => '/v1/feed?limit=20', auth, connections, 3);
    const feed: LoadResult[] = [];
    const live: LoadResult[] = [];
    for (let r = 0; r < rounds; r++) {
      feed.push(await load(ports, () => '/v1/feed?limit=20', auth, connections, seconds));
      live.push(await load(ports, () => '/health/live', auth, connections, seconds));
    }
    const summary = (xs: LoadResult[]) => ({
      reqPerSec: median(xs.map((x) => x.reqPerSec)),
      p50Ms: median(xs.map((x) => x.p50)),
      p99Ms: median(xs.map((x) => x.p99)),
      non2xx: xs.reduce((a, x) => a + x.non2xx, 0),
      errors: xs.reduce((a, x) => a + x.errors, 0),
    });
    return { apis, feed: summary(feed), healthLive: summary(live) };
  } finally {
    await stop(children);
  }
}

async function main(): Promise<void> {
  process.env.REDIS_PREFIX = PREFIX;
  const config = benchConfig();
  const total = Number(process.env.BENCH_EVENTS ?? 60_000);
  const userCount = Number(process.env.BENCH_USERS ?? 1000);
  const seconds = Number(process.env.BENCH_SECONDS ?? 10);
  const connections = Number(process.env.BENCH_CONNECTIONS ?? 50);
  const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
  const only = process.env.BENCH_ONLY;
  const videos = await videoIds(config);
  const users = await seededUsers(config);
  const out: Record<string, unknown> = { bench: 'scale-out', cpus: cpus().length };
  try {
    if (only !== 'feeds') {
      const events: Record<string, unknown>[] = [];
      for (const workers of [1, 2]) {
        const runs = [];
        for (let r = 0; r < rounds; r++) runs.push(await drainSeconds(config, workers, total, userCount, videos));
        const perSec = runs.map((x) => Math.round(x.events / x.seconds));
        events.push({ workers, events: runs[0].events, processedPerSec: median(perSec), runs: perSec });
        log(`events, ${workers} worker(s): ${JSON.stringify(events[events.length - 1])}`);
      }
      out.events = events;
    }
    if (only !== 'events') {
      await clearBenchState(config);
      await replaySeededLog();
      const result = [];
      for (const apis of [1, 2]) {
        result.push(await feeds(config, apis, users, rounds, seconds, connections));
        log(`feeds, ${apis} api(s): ${JSON.stringify(result[result.length - 1])}`);
      }
      out.feeds = result;
    }
  } finally {
    await clearBenchState(config);
  }
  process.stdout.write(`${JSON.stringify(out)}\n`);
}

main().then(
  () => process.exit(0),
  (err) => {
    log(`scale-out failed: ${(err as Error).stack}`);
    process.exit(1);
  },
);
