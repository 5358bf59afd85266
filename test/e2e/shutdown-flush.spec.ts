import { Queue } from 'bullmq';
import { setTimeout as sleep } from 'node:timers/promises';
import { DataSource } from 'typeorm';
import { ApplyEventsJob } from '../../src/events/event-jobs';
import { QueueName } from '../../src/queue/queue.types';
import { RedisKeys } from '../../src/redis/redis-keys';
import { ChildApp, freePort, startAll, startApi, startWorker } from '../support/child-process';
import { createTestDataSource, truncateAllTables } from '../support/database';
import { createCatalog } from '../support/events';
import { eventsApplied, readLog, waitForLogged } from '../support/interaction-log';
import { clearTestRedis } from '../support/redis';
import { TcpProxy } from '../support/tcp-proxy';
import { testDatabaseUrl, testRedisPrefix } from '../support/test-env';
import { acceptedEvents, eventPoster, feedGetter, FeedAnswer, Outcome, tally, Traffic } from '../support/traffic';

jest.setTimeout(90_000);

const USERS = Array.from({ length: 16 }, (_, i) => `sf-user-${i}`);

/** What a process must show after a graceful stop: exit code 0, its shutdown line, no error logged. */
async function expectCleanExit(proc: ChildApp): Promise<string> {
  const exit = await proc.exited;
  expect(exit).toEqual({ code: 0, signal: null });
  const line = await proc.waitForLog((l) => typeof l.msg === 'string' && l.msg.startsWith('stopped taking work (SIGTERM)'), 1000);
  expect(proc.logs.filter((l) => l.level >= 50)).toEqual([]);
  return line.msg!;
}

describe('SIGTERM with writes still buffered', () => {
  let db: DataSource;
  let queue: Queue<ApplyEventsJob>;
  let videos: string[];
  const started: ChildApp[] = [];

  beforeAll(async () => {
    db = await createTestDataSource();
    await truncateAllTables(db);
    await clearTestRedis();
    videos = await createCatalog(db, 40);
    queue = new Queue(QueueName.Events, {
      connection: { url: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379' },
      prefix: new RedisKeys(testRedisPrefix()).bullPrefix,
    });
  });

  afterAll(async () => {
    await Promise.all(started.map((p) => p.stop('SIGKILL')));
    await queue?.close();
    await db?.destroy();
  });

  it('the worker finishes the log writes of every job it took: each accepted event is logged or still queued, never half-done', async () => {
    // The worker reaches Postgres through a relay that delays every answer, so its
    // INSERTs are in flight (rows buffered in the group-commit writer) when SIGTERM comes.
    const target = new URL(testDatabaseUrl());
    const proxy = new TcpProxy(Number(target.port || 5432), target.hostname);
    target.port = String(await proxy.start());
    const apiPort = await freePort();
    const [api, worker] = await startAll([startApi(apiPort), startWorker({ DATABASE_URL: target.toString(), EVENTS_CONCURRENCY: '8' })]);
    started.push(api, worker);
    proxy.delayMs = 300;
    try {
      const events = new Traffic(20, eventPoster(apiPort, 'wsig', USERS, videos, 10)).start();
      const deadline = Date.now() + 20_000;
      while ((await queue.getActiveCount()) < 4 && Date.now() < deadline) await sleep(20);
      const signalledAt = Date.now();
      worker.proc.kill('SIGTERM');
      const rowsAtSignal = ((await db.query('SELECT count(*)::int AS n FROM interactions')) as { n: number }[])[0].n;
      const activeAtSignal = await queue.getActiveCount();
      const shutdownLine = await expectCleanExit(worker);
      const exitedAt = Date.now();
      await events.stop();

      const accepted = acceptedEvents(events.outcomes);
      const atExit = await readLog(db, accepted);
      const leftJobs = await queue.getJobs(['active', 'waiting', 'delayed', 'prioritized', 'failed']);
      const states = await Promise.all(leftJobs.map((j) => j.getState()));
      const queuedIds = new Set(leftJobs.flatMap((j) => j.data.events.map((e) => e.eventId)));
      const acceptedIds = [...accepted.values()].flatMap((s) => [...s]);
      const loggedIds = new Set(acceptedIds.filter((id) => !atExit.missing.includes(id)));
      console.log(
        'worker SIGTERM with log writes in flight\n%s',
        JSON.stringify(
          {
            eventBatches: tally(events.outcomes),
            eventsAccepted: acceptedIds.length,
            activeJobsAtSignal: activeAtSignal,
            rowsAtSignal,
            rowsAtExit: atExit.rows,
            stillQueuedAtExit: queuedIds.size,
            shutdownMs: exitedAt - signalledAt,
            shutdownLine,
          },
          null,
          1,
        ),
      );

      expect(activeAtSignal).toBeGreaterThan(0);
      expect(atExit.rows).toBeGreaterThan(rowsAtSignal); // writes in flight at the signal were finished
      expect(states.filter((s) => s !== 'waiting')).toEqual([]); // nothing left active (half-done) or failed
      expect(acceptedIds.filter((id) => !loggedIds.has(id) && !queuedIds.has(id))).toEqual([]); // nothing lost
      expect(acceptedIds.filter((id) => loggedIds.has(id) && queuedIds.has(id))).toEqual([]); // no job half-done
      expect(atExit.badSequences).toEqual([]);

      // The next worker takes the rest: every accepted event logged once and counted once.
      const next = await startWorker();
      started.push(next);
      const final = await waitForLogged(db, accepted, 30_000);
      expect(final.missing.slice(0, 5)).toEqual([]); // the first few of the missing ids
      expect(final.rows).toBe(acceptedIds.length);
      expect(final.badSequences).toEqual([]);
      for (const [u, ids] of accepted) expect([u, await eventsApplied(apiPort, u)]).toEqual([u, ids.size]);
      await next.stop();
      await api.stop();
    } finally {
      await proxy.close();
    }
  });

  it('the api writes the impressions of every feed it answered before it exits', async () => {
    await db.query('TRUNCATE impressions');
    const port = await freePort();
    // Impressions are only written on shutdown: the buffer holds everything served.
    const api = await startApi(port, { IMPRESSION_FLUSH_MS: '60000', SHUTDOWN_DRAIN_DELAY_MS: '300' });
    started.push(api);
    const get = feedGetter(port, USERS, 10);
    const outcomes: Outcome<FeedAnswer>[] = [];
    let stopped = false;
    const clients = Array.from({ length: 6 }, async (_, c) => {
      for (let n = c; !stopped && n < 5000; n += 6) {
        const o = await get(n);
        outcomes.push(o);
        if (o.status === null) stopped = true; // the listener has closed
      }
    });
    await sleep(1500);
    const writtenAtSignal = ((await db.query('SELECT count(*)::int AS n FROM impressions')) as { n: number }[])[0].n;
    const signalledAt = Date.now();
    api.proc.kill('SIGTERM');
    const shutdownLine = await expectCleanExit(api);
    stopped = true;
    await Promise.all(clients);

    const answered = outcomes.filter((o) => o.status === 200);
    const due = new Map(answered.map((o) => [o.body!.requestId, o.body!.items.length]));
    const rows: { request_id: string; n: number }[] = await db.query(
      `SELECT request_id, count(*)::int AS n FROM impressions GROUP BY request_id`,
    );
    const written = new Map(rows.map((r) => [r.request_id, r.n]));
    console.log(
      'api SIGTERM under feed load\n%s',
      JSON.stringify(
        {
          requests: tally(outcomes),
          answeredAfterSignal: answered.filter((o) => o.sentAt >= signalledAt).length,
          impressionsDue: [...due.values()].reduce((a, b) => a + b, 0),
          impressionsWritten: rows.reduce((a, r) => a + r.n, 0),
          // a request served while its keep-alive connection was being closed: written, answer lost on the way
          requestsWrittenNotReceived: rows.filter((r) => !due.has(r.request_id)).length,
          shutdownLine,
        },
        null,
        1,
      ),
    );

    expect(writtenAtSignal).toBe(0); // everything served so far was still in the buffer
    expect(answered.length).toBeGreaterThan(20);
    // Answered or refused at the door (listener closed), never an error status.
    expect(outcomes.filter((o) => o.status !== 200 && o.status !== null)).toEqual([]);
    expect([...due].filter(([id, n]) => written.get(id) !== n)).toEqual([]);
  });
});
