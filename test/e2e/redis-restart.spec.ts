import { Queue } from 'bullmq';
import { setTimeout as sleep } from 'node:timers/promises';
import { DataSource } from 'typeorm';
import { QueueName } from '../../src/queue/queue.types';
import { RedisKeys } from '../../src/redis/redis-keys';
import { ChildApp, freePort, startAll, startApi, startWorker } from '../support/child-process';
import { createTestDataSource, truncateAllTables } from '../support/database';
import { createCatalog } from '../support/events';
import { eventsApplied, readLog, waitForLogged } from '../support/interaction-log';
import { PrivateRedis } from '../support/private-redis';
import { testRedisPrefix } from '../support/test-env';
import { acceptedEvents, eventPoster, FeedAnswer, feedGetter, metricOn, Outcome, tally, Traffic } from '../support/traffic';

jest.setTimeout(90_000);

const USERS = Array.from({ length: 12 }, (_, i) => `rr-user-${i}`);
const BATCH = 10;
/** One batch every 40 ms: 250 events/s; one feed request every 100 ms. */
const EVENT_EVERY_MS = 40;
const FEED_EVERY_MS = 100;

/**
 * The api and the worker on a redis-server of the test's own, which the test kills and
 * restarts while a client posts events and another reads feeds. Redis holds the
 * events queue, the dedupe window and the online features, so what survives a restart
 * is what Redis itself keeps: with the append-only file (the supported setup) nothing
 * accepted is lost; without persistence the queue is empty after the restart.
 */
describe('Redis restarted while events flow', () => {
  let db: DataSource;
  let redis: PrivateRedis;
  let queue: Queue;
  let api: ChildApp;
  let worker: ChildApp;
  let port: number;
  let videos: string[];

  beforeAll(async () => {
    db = await createTestDataSource();
    await truncateAllTables(db);
    videos = await createCatalog(db, 40);
    redis = new PrivateRedis(await freePort());
    await redis.start({ appendOnly: true });
    port = await freePort();
    // WORKER_LOCK_MS: a job whose worker lost Redis mid-job is taken over within seconds.
    const env = { REDIS_URL: redis.url, WORKER_LOCK_MS: '4000', FEED_REDIS_BUDGET_MS: '250' };
    [api, worker] = await startAll([startApi(port, env), startWorker(env)]);
    queue = new Queue(QueueName.Events, { connection: { url: redis.url }, prefix: new RedisKeys(testRedisPrefix()).bullPrefix });
    queue.on('error', () => undefined); // refused connections while Redis is down
  }, 90_000);

  afterAll(async () => {
    await queue?.close();
    await Promise.all([api?.stop('SIGKILL'), worker?.stop('SIGKILL')]);
    await redis?.destroy();
    await db?.destroy();
  });

  const queueIdle = async () => {
    const c = await queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized');
    return Object.values(c).every((n) => n === 0);
  };

  /**
   * Events and feeds flow for 2 s; the worker is stopped (SIGSTOP) for `backlogMs`, so
   * accepted events wait in the queue; Redis goes away for `outageMs` and comes back;
   * the worker is continued and traffic goes on 6 s more.
   */
  async function restartUnderTraffic(
    runId: string,
    stop: () => Promise<void>,
    restart: () => Promise<void>,
    { backlogMs, outageMs }: { backlogMs: number; outageMs: number },
  ) {
    const events = new Traffic(EVENT_EVERY_MS, eventPoster(port, runId, USERS, videos, BATCH)).start();
    const feeds = new Traffic(FEED_EVERY_MS, feedGetter(port, USERS)).start();
    const fallbacksBefore = await metricOn(port, 'reelrank_feed_fallback_total', { reason: 'redis_unavailable' });
    await sleep(2000);
    const pausedAt = Date.now();
    if (backlogMs > 0) {
      worker.proc.kill('SIGSTOP');
      await sleep(backlogMs);
    }
    const downAt = Date.now();
    await stop();
    await sleep(outageMs);
    await restart();
    const upAt = Date.now();
    if (backlogMs > 0) worker.proc.kill('SIGCONT');
    await sleep(6000);
    await Promise.all([events.stop(), feeds.stop()]);
    const fallbacks = (await metricOn(port, 'reelrank_feed_fallback_total', { reason: 'redis_unavailable' })) - fallbacksBefore;
    return { events, feeds, pausedAt, downAt, upAt, fallbacks, outageMs };
  }

  /** Answer times by status: `{ "503": [p50, max], ... }`. */
  function latencies(outcomes: Outcome[]): Record<string, [number, number]> {
    const by = new Map<string, number[]>();
    for (const o of outcomes) {
      const key = String(o.status ?? o.error);
      by.set(key, [...(by.get(key) ?? []), o.doneAt - o.sentAt]);
    }
    return Object.fromEntries([...by].map(([k, ms]) => [k, [ms.sort((a, b) => a - b)[ms.length >> 1], ms[ms.length - 1]]]));
  }

  function report(title: string, r: Awaited<ReturnType<typeof restartUnderTraffic>>, extra: Record<string, unknown>) {
    const during = (t: Traffic<unknown>) => tally(t.sentBetween(r.downAt, r.upAt));
    console.log(
      `${title}\n` +
        JSON.stringify(
          {
            outageMs: r.outageMs,
            eventBatches: tally(r.events.outcomes),
            eventBatchesInTheFirst2500MsAfterRestart: tally(r.events.sentBetween(r.upAt, r.upAt + 2500)),
            eventBatchesDuringOutage: during(r.events),
            eventLatencyDuringOutageMs: latencies(r.events.sentBetween(r.downAt, r.upAt)),
            feeds: tally(r.feeds.outcomes),
            feedsDuringOutage: during(r.feeds as Traffic<unknown>),
            feedFallbacksRedisUnavailable: r.fallbacks,
            ...extra,
          },
          null,
          1,
        ),
    );
  }

  /** What every run must show, whatever Redis kept: 503 (never 500) while Redis is away, feeds always answered, and recovery. */
  async function expectDegradedThenRecovered(r: Awaited<ReturnType<typeof restartUnderTraffic>>) {
    const statuses = tally(r.events.outcomes);
    expect(Object.keys(statuses).filter((s) => s !== '202' && s !== '503')).toEqual([]);
    expect(statuses['503']).toBeGreaterThan(0);
    // Refused at once while Redis is away (not held until it is back), and never accepted then.
    const refused = r.events.sentBetween(r.downAt + 300, r.upAt - 100);
    expect(refused.length).toBeGreaterThan(20);
    expect(tally(refused)).toEqual({ '503': refused.length });
    expect(refused.filter((o) => o.doneAt - o.sentAt > 1000)).toEqual([]);
    // Events are accepted again within seconds of Redis being back (the clients retry every
    // 2 s at most, however long it was away; 4 s leaves room for a busy CI machine).
    const recovered = r.events.sentBetween(r.upAt + 4000, Infinity);
    expect(recovered.length).toBeGreaterThan(10);
    expect(tally(recovered)).toEqual({ '202': recovered.length });

    expect(tally(r.feeds.outcomes)).toEqual({ '200': r.feeds.outcomes.length });
    expect(r.feeds.outcomes.every((o) => (o.body as FeedAnswer).items.length > 0)).toBe(true);
    const duringOutage = r.feeds.sentBetween(r.downAt + 500, r.upAt);
    expect(duringOutage.length).toBeGreaterThan(10);
    expect(duringOutage.every((o) => (o.body as FeedAnswer).items.every((i) => i.source === 'trending'))).toBe(true);
    expect(r.fallbacks).toBeGreaterThanOrEqual(duringOutage.length);

    // The 503s are counted, event by event, on the api's /metrics.
    expect(await metricOn(port, 'reelrank_events_ingested_total', { outcome: 'unavailable' })).toBeGreaterThanOrEqual(statuses['503'] * BATCH);
    // Recovered: the feed is no longer degraded.
    const before = await metricOn(port, 'reelrank_feed_fallback_total', { reason: 'redis_unavailable' });
    for (const u of USERS.slice(0, 4)) expect((await feedGetter(port, [u])(0)).status).toBe(200);
    expect(await metricOn(port, 'reelrank_feed_fallback_total', { reason: 'redis_unavailable' })).toBe(before);
  }

  it('with the append-only file on, a SIGKILL of Redis loses no accepted event, queued ones included: every 202 is logged once and counted in the features', async () => {
    const r = await restartUnderTraffic('aof', () => redis.kill(), () => redis.start({ appendOnly: true }), { backlogMs: 1000, outageMs: 11_000 });
    await expectDegradedThenRecovered(r);

    const accepted = acceptedEvents(r.events.outcomes);
    const acceptedCount = [...accepted.values()].reduce((n, s) => n + s.size, 0);
    const log = await waitForLogged(db, accepted, 30_000);
    const drained = Date.now() + 15_000;
    while (!(await queueIdle()) && Date.now() < drained) await sleep(200);
    const final = await readLog(db, accepted);
    const applied = new Map<string, number>();
    for (const u of accepted.keys()) applied.set(u, await eventsApplied(port, u));
    const queuedAtRestart = acceptedEvents(r.events.outcomes.filter((o) => o.sentAt >= r.pausedAt && o.sentAt < r.downAt));
    report('Redis (AOF) SIGKILL + restart, worker 1 s behind', r, {
      eventsAccepted: acceptedCount,
      acceptedWhileQueuedAtRestart: [...queuedAtRestart.values()].reduce((n, s) => n + s.size, 0),
      rowsInInteractions: final.rows,
      missing: log.missing.length,
    });

    expect(log.missing.slice(0, 5)).toEqual([]); // the first few of the missing ids
    expect(final.badSequences).toEqual([]);
    // The features count each logged event once: 503'd batches that did get queued are in both.
    for (const [u, n] of applied) expect([u, n]).toEqual([u, final.perUser.get(u)]);
    expect(await queue.getFailedCount()).toBe(0);
  });

  it('without persistence, Redis comes back empty: 503 during the outage and full recovery after, but the events still queued are lost', async () => {
    const r = await restartUnderTraffic(
      'empty',
      () => redis.shutdownNoSave(),
      () => redis.start({ appendOnly: false }),
      { backlogMs: 1000, outageMs: 3000 },
    );
    await expectDegradedThenRecovered(r);

    const outcomes = r.events.outcomes;
    const acceptedAfter = acceptedEvents(outcomes.filter((o) => o.sentAt >= r.upAt));
    const processedBefore = acceptedEvents(outcomes.filter((o) => o.sentAt < r.pausedAt - 500));
    const queuedAtRestart = acceptedEvents(outcomes.filter((o) => o.sentAt >= r.pausedAt && o.sentAt < r.downAt));
    const after = await waitForLogged(db, acceptedAfter, 30_000);
    const processed = await readLog(db, processedBefore);
    const queued = await readLog(db, queuedAtRestart);
    const count = (m: Map<string, Set<string>>) => [...m.values()].reduce((n, s) => n + s.size, 0);
    report('Redis (no persistence) SHUTDOWN NOSAVE + restart empty, worker 1 s behind', r, {
      acceptedUpToHalfASecondBeforeTheWorkerStopped: count(processedBefore),
      missingOfThose: processed.missing.length,
      acceptedWhileQueuedAtRestart: count(queuedAtRestart),
      lostOfThose: queued.missing.length,
      acceptedAfterRestart: count(acceptedAfter),
      missingOfTheseAfter: after.missing.length,
    });

    // Processed before the restart: in the log (Postgres), though the online features are gone.
    expect(processed.missing.slice(0, 5)).toEqual([]);
    // Accepted once Redis is back: processed, logged and in the features.
    expect(after.missing.slice(0, 5)).toEqual([]);
    for (const [u, ids] of acceptedAfter) expect(await eventsApplied(port, u)).toBeGreaterThanOrEqual(ids.size);
    // The limit this setup has (README, RELIABILITY.md): accepted but still queued when an
    // empty Redis came back = lost. Run Redis with appendonly yes (the first test).
    expect(queued.missing.length).toBeGreaterThan(0);
  });
});
