import { Queue } from 'bullmq';
import { setTimeout as sleep } from 'node:timers/promises';
import { DataSource } from 'typeorm';
import { QueueName } from '../../src/queue/queue.types';
import { RedisKeys } from '../../src/redis/redis-keys';
import { ChildApp, freePort, startAll, startApi, startWorker } from '../support/child-process';
import { createTestDataSource, truncateAllTables } from '../support/database';
import { createCatalog } from '../support/events';
import { eventsApplied, readLog, waitForLogged } from '../support/interaction-log';
import { clearTestRedis } from '../support/redis';
import { TcpProxy } from '../support/tcp-proxy';
import { testDatabaseUrl, testRedisPrefix } from '../support/test-env';
import { acceptedEvents, eventPoster, feedGetter, metricOn, request, tally, Traffic } from '../support/traffic';

jest.setTimeout(90_000);

const EVENT_USERS = Array.from({ length: 12 }, (_, i) => `pg-user-${i}`);
/** Many feed users, so some are first seen during the outage (their follows cannot be read). */
const FEED_USERS = Array.from({ length: 300 }, (_, i) => `pg-reader-${i}`);
const OUTAGE_MS = 8000;

/**
 * The api and the worker reach Postgres through a relay the test cuts (every
 * connection dropped, new ones refused) for OUTAGE_MS while events and feeds flow.
 * The retry budget of an events job is cut to ~0.7 s (4 attempts from 100 ms), far
 * shorter than the outage, as the default (~32 s) is shorter than a failover that
 * takes a minute: an outage must not use up the attempts of the jobs it holds up.
 */
describe('Postgres down while events and feeds flow', () => {
  let db: DataSource;
  let proxy: TcpProxy;
  let queue: Queue;
  let api: ChildApp;
  let worker: ChildApp;
  let port: number;
  let workerMetricsPort: number;
  let videos: string[];

  beforeAll(async () => {
    db = await createTestDataSource();
    await truncateAllTables(db);
    await clearTestRedis();
    videos = await createCatalog(db, 40);
    const target = new URL(testDatabaseUrl());
    proxy = new TcpProxy(Number(target.port || 5432), target.hostname);
    target.port = String(await proxy.start());
    port = await freePort();
    const env = {
      DATABASE_URL: target.toString(),
      EVENTS_RETRY_DELAY_MS: '100',
      EVENTS_JOB_ATTEMPTS: '4',
      IMPRESSION_FLUSH_MS: '200',
      WORKER_LOCK_MS: '4000',
      FEED_REDIS_BUDGET_MS: '250',
    };
    workerMetricsPort = await freePort();
    [api, worker] = await startAll([startApi(port, env), startWorker({ ...env, WORKER_METRICS_PORT: String(workerMetricsPort) })]);
    queue = new Queue(QueueName.Events, {
      connection: { url: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379' },
      prefix: new RedisKeys(testRedisPrefix()).bullPrefix,
    });
  }, 90_000);

  afterAll(async () => {
    proxy?.setDown(false);
    await queue?.close();
    await Promise.all([api?.stop('SIGKILL'), worker?.stop('SIGKILL')]);
    await proxy?.close();
    await db?.destroy();
  });

  it('accepts every event and serves every feed during the outage, then logs each event and impression exactly once', async () => {
    const events = new Traffic(40, eventPoster(port, 'pg', EVENT_USERS, videos, 10)).start();
    const feeds = new Traffic(100, feedGetter(port, FEED_USERS)).start();
    const graphFallbacks = () => metricOn(port, 'reelrank_feed_fallback_total', { reason: 'user_graph_unavailable' });
    const graphBefore = await graphFallbacks();
    await sleep(2000);
    const downAt = Date.now();
    proxy.setDown(true);
    await sleep(OUTAGE_MS / 2);
    const readyDuringOutage = (await request(`http://127.0.0.1:${port}/health/ready`)).status;
    const loggedDuringOutage = (await readLog(db, acceptedEvents(events.outcomes))).rows;
    await sleep(OUTAGE_MS / 2);
    proxy.setDown(false);
    const upAt = Date.now();
    await sleep(3000);
    await Promise.all([events.stop(), feeds.stop()]);
    const graphDuring = (await graphFallbacks()) - graphBefore;

    const accepted = acceptedEvents(events.outcomes);
    const acceptedCount = [...accepted.values()].reduce((n, s) => n + s.size, 0);
    const log = await waitForLogged(db, accepted, 30_000);
    const loggedAllAfterUpMs = Date.now() - upAt;
    const answered = feeds.outcomes.filter((o) => o.status === 200 && o.body);
    const impressionsDue = answered.reduce((n, o) => n + o.body!.items.length, 0);
    const requestIds = answered.map((o) => o.body!.requestId);
    const impressions = async () =>
      ((await db.query(`SELECT count(*)::int AS n FROM impressions WHERE request_id = ANY($1)`, [requestIds])) as { n: number }[])[0].n;
    const deadline = Date.now() + 30_000;
    while ((await impressions()) < impressionsDue && Date.now() < deadline) await sleep(250);
    const deferrals = await metricOn(workerMetricsPort, 'reelrank_event_jobs_deferred_total', { reason: 'postgres_unavailable' });
    console.log(
      'Postgres cut for %d ms\n%s',
      OUTAGE_MS,
      JSON.stringify(
        {
          eventBatches: tally(events.outcomes),
          eventBatchesDuringOutage: tally(events.sentBetween(downAt, upAt)),
          eventsAccepted: acceptedCount,
          rowsInInteractions: log.rows,
          rowsLoggedWhileDown: loggedDuringOutage,
          loggedAllAfterUpMs,
          jobDeferrals: deferrals,
          feeds: tally(feeds.outcomes),
          feedsDuringOutage: tally(feeds.sentBetween(downAt, upAt)),
          feedFallbacksUserGraph: graphDuring,
          impressionsDue,
          impressionsWritten: await impressions(),
          readyDuringOutage,
          deadLetters: await queue.getFailedCount(),
        },
        null,
        1,
      ),
    );

    // Ingest does not touch Postgres: nothing refused.
    expect(tally(events.outcomes)).toEqual({ '202': events.outcomes.length });
    expect(events.sentBetween(downAt, upAt).length).toBeGreaterThan(100);
    // The feed answered throughout; first-time readers went without their follows, and it says so.
    expect(tally(feeds.outcomes)).toEqual({ '200': feeds.outcomes.length });
    expect(feeds.outcomes.every((o) => o.body!.items.length > 0)).toBe(true);
    expect(graphDuring).toBeGreaterThan(0);
    // Still ready (status degraded): a load balancer must not take the apis out of rotation.
    expect(readyDuringOutage).toBe(200);

    // Every accepted event logged once, in its user's order, and counted once in the features.
    expect(log.missing.slice(0, 5)).toEqual([]); // the first few of the missing ids
    expect(log.rows).toBe(acceptedCount);
    expect(log.badSequences).toEqual([]);
    for (const [u, ids] of accepted) expect([u, await eventsApplied(port, u)]).toEqual([u, ids.size]);
    expect(await queue.getFailedCount()).toBe(0);
    expect(deferrals).toBeGreaterThan(0); // jobs waited for Postgres instead of failing attempts
    // Impressions of every answered request, once each.
    expect(await impressions()).toBe(impressionsDue);
  });
});
