import { INestApplicationContext } from '@nestjs/common';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { ChildProcess } from 'node:child_process';
import { DataSource } from 'typeorm';
import { EventQueuesRepository } from '../../src/events/event-queues.repository';
import { QueuedEvent } from '../../src/events/event-jobs';
import { applyVideoStatDelta, emptyVideoStats, videoStatDelta } from '../../src/features/video-stats';
import { EventQueueShards } from '../../src/queue/event-queue-shards';
import { randomEvents } from '../factories/event.factory';
import { uniqueId } from '../factories/sequence';
import { createTestDataSource, truncateAllTables } from '../support/database';
import { createCatalog, snapshotOnlineState } from '../support/events';
import { clearTestRedis } from '../support/redis';
import { spawnTs } from '../support/run-ts';
import { createTestApp } from '../support/test-app';
import { createTestWorker, eventually, waitForQueuesIdle } from '../support/test-worker';

describe('a worker process killed with SIGKILL mid-batch', () => {
  const LOCK_MS = '1500';
  let db: DataSource;
  let api: NestFastifyApplication;
  let child: ChildProcess | null = null;
  let survivor: INestApplicationContext | null = null;

  beforeAll(async () => {
    process.env.WORKER_LOCK_MS = LOCK_MS;
    db = await createTestDataSource();
    await truncateAllTables(db);
    await clearTestRedis();
    api = await createTestApp();
  });

  afterAll(async () => {
    child?.kill('SIGKILL');
    await survivor?.close();
    await api.close();
    await db.destroy();
  });

  it('loses and duplicates nothing once another worker takes over its jobs', async () => {
    const videos = await createCatalog(db, 40);
    const users = Array.from({ length: 40 }, () => uniqueId('u'));
    const sent = new Map<string, QueuedEvent[]>();
    const queues = api.get(EventQueuesRepository);
    for (const [i, u] of users.entries()) {
      const batches = Array.from({ length: 4 }, (_, b) => randomEvents(50, videos, 31 * i + b));
      sent.set(u, batches.flat());
      for (const batch of batches) await queues.enqueueApply(u, batch);
    }
    const events = api.get(EventQueueShards).queues[0]; // one shard in tests
    const total = (await events.getJobCounts('waiting')).waiting;
    expect(total).toBe(users.length * 4);

    child = spawnTs('src/worker.ts', [], { WORKER_LOCK_MS: LOCK_MS, WORKER_METRICS_PORT: '0' });
    child.stdout!.resume();
    child.stderr!.resume();
    let activeAtKill = 0;
    await eventually(async () => {
      const c = await events.getJobCounts('waiting', 'active');
      if (c.waiting > total * 0.7) return false;
      activeAtKill = c.active;
      return true;
    }, 'the child worker to process some jobs', 30_000);
    child.kill('SIGKILL');
    await new Promise((r) => child!.once('exit', r));
    child = null;
    expect(activeAtKill).toBeGreaterThan(0);
    expect((await events.getJobCounts('waiting')).waiting).toBeGreaterThan(0);

    survivor = await createTestWorker();
    await waitForQueuesIdle(survivor, undefined, 60_000);

    const snap = await snapshotOnlineState(survivor, users, videos);
    const stats = new Map(videos.map((v) => [v, emptyVideoStats()]));
    for (const u of users) {
      const mine = sent.get(u)!;
      const state = snap.users[u].state;
      expect(state.version).toBe(200);
      for (const type of new Set(mine.map((e) => e.type))) expect([u, type, state.counts[type]]).toEqual([u, type, mine.filter((e) => e.type === type).length]);
      for (const e of mine) applyVideoStatDelta(stats.get(e.videoId)!, videoStatDelta(e.type, e.watchMs));
    }
    for (const v of videos) expect(snap.videos[v].stats).toEqual(stats.get(v));

    const rows: { user_id: string; n: number; seqs: number; lo: number; hi: number }[] = await db.query(
      `SELECT user_id, count(*)::int AS n, count(DISTINCT user_seq)::int AS seqs, min(user_seq)::int AS lo, max(user_seq)::int AS hi
       FROM interactions GROUP BY user_id`,
    );
    expect(rows).toHaveLength(users.length);
    for (const r of rows) expect(r).toEqual({ user_id: r.user_id, n: 200, seqs: 200, lo: 1, hi: 200 });
    expect(Object.values(await survivor.get(EventQueuesRepository).deadLetterCounts())).toEqual([0]);
  }, 120_000);
});
