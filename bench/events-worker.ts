import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { CoreModule } from '../src/app/core.module';
import { EventQueuesRepository } from '../src/events/event-queues.repository';
import { EventsModule } from '../src/events/events.module';
import { Redis } from 'ioredis';
import { EventQueueShards } from '../src/queue/event-queue-shards';
import { AnyRedis } from '../src/redis/redis-connection';
import { REDIS } from '../src/redis/redis.constants';
import { benchConfig, freePort, waitForReady } from './bench-env';
import { openLoop } from './open-loop';
import { redisCpuSeconds, trackMasterLoad } from './redis-load';
import {
  bucketQuantile,
  queueBacklog,
  clearPrefix,
  countLogged,
  cpuSeconds,
  deleteBenchInteractions,
  bucketsBetween,
  histogram,
  log,
  startProcess,
  stopProcess,
  tokens,
  videoIds,
  waitForHttp,
} from './events-common';


@Module({ imports: [CoreModule, EventsModule] })
class BenchModule {}

function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? NaN;
}

/** A counter's value in a Prometheus text page (0 when absent). */
function counter(text: string, name: string, labels: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name}{${labels}}`));
  return line ? Number(line.split(' ').pop()) : 0;
}

/**
 * Event processing: (1) throughput: a backlog of BENCH_EVENTS events from BENCH_USERS
 * users is queued, then a worker process drains it (user state, video stats, trending,
 * seen, and the Postgres log: a job completes only once all of it is written); (2) freshness: api + worker under a steady
 * BENCH_RATE events/s over HTTP (batches of BENCH_FRESH_BATCH), read from the worker's
 * reelrank_event_freshness_seconds histogram. Both report the commands each Redis master
 * ran (INFO commandstats; REDIS_CLUSTER_NODES runs it on a cluster). BENCH_KILL_MASTER=host:port
 * shuts that master down (SHUTDOWN NOSAVE) halfway through (2): the run then reports the 503s,
 * the events accepted against the rows logged, and the dead letters after the queues drained.
 *
 *   node dist/bench/events-worker.js   (env: BENCH_EVENTS=100000, BENCH_USERS=2000, BENCH_RATE=1000,
 *                                       BENCH_FRESH_SECONDS=20, BENCH_PORT, BENCH_METRICS_PORT; ports default to free ones)
 */
async function main(): Promise<void> {
  const prefix = 'rrbench-worker';
  process.env.REDIS_PREFIX = prefix;
  process.env.LOG_LEVEL = 'warn';
  const config = benchConfig();
  const total = Number(process.env.BENCH_EVENTS ?? 100_000);
  const userCount = Number(process.env.BENCH_USERS ?? 2000);
  const rate = Number(process.env.BENCH_RATE ?? 1000);
  const freshSeconds = Number(process.env.BENCH_FRESH_SECONDS ?? 20);
  const freshBatch = Number(process.env.BENCH_FRESH_BATCH ?? 10);
  const port = Number(process.env.BENCH_PORT ?? (await freePort()));
  const metricsPort = Number(process.env.BENCH_METRICS_PORT ?? (await freePort()));
  const videos = await videoIds(config);
  const users = Array.from({ length: userCount }, (_, i) => `${prefix}-u${i}`);

  await clearPrefix(config, prefix);
  await deleteBenchInteractions(config, prefix);
  const ctx = await NestFactory.createApplicationContext(BenchModule, { logger: ['error'] });
  const results: Record<string, unknown> = {};
  try {
    // (1) throughput
    const queues = ctx.get(EventQueuesRepository);
    const started = Date.now();
    const seq = await queueBacklog(queues, users, videos, total, started);
    log(`queued ${seq} events in ${Date.now() - started} ms`);
    const worker = startProcess('worker', { REDIS_PREFIX: prefix, WORKER_METRICS_PORT: String(metricsPort) });
    await waitForHttp(`http://127.0.0.1:${metricsPort}/metrics`);
    const t0 = Date.now();
    const cpu0 = cpuSeconds(worker.pid!);
    const redis = ctx.get<AnyRedis>(REDIS);
    const redisCpu0 = await redisCpuSeconds(redis);
    const drainLoad = await trackMasterLoad(redis);
    for (;;) {
      const c = (await queues.jobCounts()).events;
      if (c.waiting + c.active + c.delayed + c.prioritized === 0) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    const done = Date.now();
    const workerCpu = cpuSeconds(worker.pid!) - cpu0;
    const redisCpu = (await redisCpuSeconds(redis)) - redisCpu0;
    const perMaster = await drainLoad();
    results.throughput = {
      events: seq,
      users: users.length,
      eventsPerJob: Math.min(Math.ceil(total / users.length), config.EVENTS_JOB_SIZE),
      processedPerSec: Math.round(seq / ((done - t0) / 1000)),
      workerCpuUsPerEvent: Math.round((workerCpu * 1e6) / seq),
      redisCpuUsPerEvent: Math.round((redisCpu * 1e6) / seq),
      eventQueueShards: ctx.get(EventQueueShards).count,
      perMaster,
      deadLetters: await queues.deadLetterCounts(),
    };
    log(`throughput: ${JSON.stringify(results.throughput)}`);

    // (2) freshness at a steady rate through the api
    const api = startProcess('main', { REDIS_PREFIX: prefix, PORT: String(port) });
    try {
      await waitForReady(`http://127.0.0.1:${port}`);
      const auth = await tokens(config, users);
      const scrape = async () => (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
      const m0 = await scrape();
      const before = histogram(m0, 'reelrank_event_freshness_seconds');
      const waitBefore = histogram(m0, 'reelrank_event_queue_wait_seconds');
      const jobBefore = histogram(m0, 'reelrank_event_job_seconds');
      // Same-run baseline: how long a bare Redis PING takes while this runs (CPU contention shows up here first).
      const pings: number[] = [];
      let sampling = true;
      const sampler = (async () => {
        const redis = ctx.get<AnyRedis>(REDIS);
        while (sampling) {
          const t = performance.now();
          await redis.ping();
          pings.push(performance.now() - t);
          await new Promise((r) => setTimeout(r, 5));
        }
      })();
      const freshLoad = await trackMasterLoad(redis);
      const killAt = process.env.BENCH_KILL_MASTER;
      const killer = killAt
        ? setTimeout(() => {
            const [host, p] = killAt.split(':');
            const victim = new Redis({ host, port: Number(p), lazyConnect: true, retryStrategy: () => null });
            victim.on('error', () => undefined);
            log(`shutting down the Redis master ${killAt}`);
            void victim.connect().then(() => victim.call('SHUTDOWN', 'NOSAVE')).catch(() => undefined).finally(() => victim.disconnect());
          }, (freshSeconds * 1000) / 2)
        : null;
      // Evenly paced, open loop (see openLoop): a steady 1,000 events/s, not a burst a second.
      const res = await openLoop(port, rate / freshBatch, freshSeconds, (i) => ({
        method: 'POST',
        path: '/v1/events',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${auth[i % auth.length]}` },
        body: JSON.stringify({
          events: Array.from({ length: freshBatch }, (_, k) => ({
            eventId: `f${i}-${k}`,
            type: k % 3 === 0 ? 'like' : 'view',
            videoId: videos[(i * 13 + k) % videos.length],
            watchMs: 5000,
            occurredAt: new Date().toISOString(),
          })),
        }),
      }));
      sampling = false;
      if (killer) clearTimeout(killer);
      await sampler;
      await new Promise((r) => setTimeout(r, 1000));
      const m1 = await scrape();
      const delta = bucketsBetween(before, histogram(m1, 'reelrank_event_freshness_seconds'));
      const wait = bucketsBetween(waitBefore, histogram(m1, 'reelrank_event_queue_wait_seconds'));
      const job = bucketsBetween(jobBefore, histogram(m1, 'reelrank_event_job_seconds'));
      const count = delta[delta.length - 1].count;
      results.freshness = {
        targetEventsPerSec: rate,
        sentEventsPerSec: Math.round((res.sent * freshBatch) / freshSeconds),
        applied: count,
        p50Ms: +(bucketQuantile(delta, 0.5) * 1000).toFixed(1),
        p90Ms: +(bucketQuantile(delta, 0.9) * 1000).toFixed(1),
        p99Ms: +(bucketQuantile(delta, 0.99) * 1000).toFixed(1),
        queueWaitP50Ms: +(bucketQuantile(wait, 0.5) * 1000).toFixed(1),
        queueWaitP99Ms: +(bucketQuantile(wait, 0.99) * 1000).toFixed(1),
        jobP50Ms: +(bucketQuantile(job, 0.5) * 1000).toFixed(1),
        jobP99Ms: +(bucketQuantile(job, 0.99) * 1000).toFixed(1),
        withinBucketMs: Object.fromEntries(delta.filter((b) => b.le <= 0.25).map((b) => [b.le * 1000, +(b.count / count).toFixed(4)])),
        httpP50Ms: +quantile(res.latencies, 0.5).toFixed(1),
        httpP99Ms: +quantile(res.latencies, 0.99).toFixed(1),
        non2xx: res.non2xx,
        baselineRedisPingP50Ms: +quantile(pings, 0.5).toFixed(2),
        baselineRedisPingP99Ms: +quantile(pings, 0.99).toFixed(2),
        perMaster: await freshLoad(),
      };
      if (killAt) {
        // Wait for the backlog (retries of jobs that hit the dead master) to drain, then count.
        const deadline = Date.now() + 180_000;
        for (;;) {
          const c = await queues.jobCounts().then((x) => x.events).catch(() => null);
          if (c && c.waiting + c.active + c.delayed + c.prioritized === 0) break;
          if (Date.now() > deadline) break;
          await new Promise((r) => setTimeout(r, 500));
        }
        const apiMetrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
        const accepted = counter(apiMetrics, 'reelrank_events_ingested_total', 'outcome="accepted"');
        log(`api ingest counters: ${apiMetrics.split('\n').filter((l) => l.startsWith('reelrank_events_ingested_total')).join('; ')}`);
        const logged = await countLogged(config, prefix, 'f');
        results.masterKilled = {
          master: killAt,
          unavailable503: res.non2xx,
          acceptedEvents: accepted,
          loggedRows: logged.rows,
          distinctLoggedEvents: logged.distinct,
          deadLetters: Object.values(await queues.deadLetterCounts()).reduce((a, b) => a + b, 0),
          queueErrorsInWorker: (await scrape()).split('\n').filter((l) => l.startsWith('reelrank_queue_errors_total{')).reduce((a, l) => a + Number(l.split(' ').pop()), 0),
        };
        log(`master killed: ${JSON.stringify(results.masterKilled)}`);
      }
      log(`freshness: ${JSON.stringify(results.freshness)}`);
    } finally {
      await stopProcess(api);
    }
    await stopProcess(worker);
  } finally {
    await ctx.close();
    await clearPrefix(config, prefix);
    await deleteBenchInteractions(config, prefix);
  }
  process.stdout.write(`${JSON.stringify({ bench: 'events-worker', ...results })}\n`);
}

main().catch((err) => {
  log(`events-worker failed: ${(err as Error).stack}`);
  process.exit(1);
});
