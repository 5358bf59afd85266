import { INestApplicationContext } from '@nestjs/common';
import { Registry } from 'prom-client';
import { DataSource } from 'typeorm';
import { EventQueuesRepository } from '../../../src/events/event-queues.repository';
import { AnyRedis } from '../../../src/redis/redis-connection';
import { REDIS } from '../../../src/redis/redis.constants';
import { RedisKeys } from '../../../src/redis/redis-keys';
import { randomEvents } from '../../factories/event.factory';
import { uniqueId } from '../../factories/sequence';
import { createTestDataSource, truncateAllTables } from '../../support/database';
import { createCatalog, snapshotOnlineState } from '../../support/events';
import { clearTestRedis } from '../../support/redis';
import { runTs } from '../../support/run-ts';
import { createTestWorker, eventually, waitForQueuesIdle } from '../../support/test-worker';

describe('dead letters', () => {
  let db: DataSource;
  let worker: INestApplicationContext;
  let queues: EventQueuesRepository;
  let videos: string[];

  beforeAll(async () => {
    process.env.EVENTS_JOB_ATTEMPTS = '2';
    process.env.QUEUE_FAILOVER_BUDGET_MS = '0'; // exactly two attempts
    process.env.EVENTS_RETRY_DELAY_MS = '10';
    db = await createTestDataSource();
    await truncateAllTables(db);
    await clearTestRedis();
    videos = await createCatalog(db, 10);
    worker = await createTestWorker();
    queues = worker.get(EventQueuesRepository);
  });

  afterAll(async () => {
    await worker.close();
    await db.query(`ALTER TABLE IF EXISTS interactions_offline RENAME TO interactions`);
    await db.destroy();
  });

  async function deadLetters(): Promise<number> {
    return Object.values(await queues.deadLetterCounts()).reduce((a, b) => a + b, 0);
  }

  it('keeps jobs that failed every attempt, and `npm run dlq:replay` gets every event applied and logged exactly once', async () => {
    const [poisoned, healthy] = [uniqueId('u'), uniqueId('u')];
    // The poisoned user's state is unreadable (its job fails at once); the log table is gone (every job fails at the end).
    await worker.get<AnyRedis>(REDIS).set(worker.get(RedisKeys).userFeatures(poisoned), '{not json');
    await db.query(`ALTER TABLE interactions RENAME TO interactions_offline`);
    await queues.enqueueApply(poisoned, randomEvents(30, videos.slice(5), 1));
    await queues.enqueueApply(healthy, randomEvents(30, videos.slice(0, 5), 2));
    await eventually(async () => (await queues.deadLetterCounts()).events === 2, 'two dead letters');
    await waitForQueuesIdle(worker);
    expect((await snapshotOnlineState(worker, [healthy], [])).users[healthy].state.version).toBe(30);
    // Queue depth on the worker's /metrics: no backlog, two dead letters.
    const depth = (await worker.get(Registry).getSingleMetricAsString('reelrank_queue_jobs')).split('\n').filter((l) => !l.startsWith('#'));
    expect(depth).toEqual(
      expect.arrayContaining([
        'reelrank_queue_jobs{queue="events",state="waiting"} 0',
        'reelrank_queue_jobs{queue="events",state="active"} 0',
        'reelrank_queue_jobs{queue="events",state="failed"} 2',
      ]),
    );

    // The healthy user's events are applied online; only their log write failed, and the job says so.
    const listed = await runTs('src/cli/dlq-replay.ts', ['--list']);
    expect(listed.stdout).toMatch(/^events\t.*attempts=2\t.*JSON/m);
    expect(listed.stdout).toMatch(/^events\t.*attempts=2\t.*relation "interactions" does not exist/m);

    // Both causes are fixed; the dead letters are replayed by the command, after the
    // per-video markers have expired (as they would have, a day later).
    const redis = worker.get<AnyRedis>(REDIS);
    const keys = worker.get(RedisKeys);
    const healthyVideos = (await snapshotOnlineState(worker, [], videos.slice(0, 5))).videos;
    await redis.del(keys.userFeatures(poisoned), ...videos.map((v) => keys.videoAppliedEvents(v)));
    await db.query(`ALTER TABLE interactions_offline RENAME TO interactions`);
    const replay = await runTs('src/cli/dlq-replay.ts');
    expect(replay.code).toBe(0);
    expect(replay.stdout).toMatch(/re-enqueued 2 from events/);

    await eventually(async () => {
      const [{ n }] = await db.query(`SELECT count(*)::int AS n FROM interactions`);
      return n === 60;
    }, 'both users logged');
    await waitForQueuesIdle(worker);
    expect(await deadLetters()).toBe(0);
    const snap = await snapshotOnlineState(worker, [poisoned, healthy], videos.slice(0, 5));
    expect(snap.users[poisoned].state.version).toBe(30);
    expect(snap.users[healthy].state.version).toBe(30);
    expect(snap.videos).toEqual(healthyVideos);
    const [{ n, users }] = await db.query(`SELECT count(*)::int AS n, count(DISTINCT user_id)::int AS users FROM interactions`);
    expect({ n, users }).toEqual({ n: 60, users: 2 });
  }, 60_000);
});
