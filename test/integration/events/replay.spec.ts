import { INestApplicationContext } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { CatalogSnapshotService } from '../../../src/catalog/catalog-snapshot.service';
import { FollowEntity } from '../../../src/database/entities';
import { EventQueuesRepository } from '../../../src/events/event-queues.repository';
import { OnlineStateRepository } from '../../../src/events/online-state.repository';
import { ReplayService } from '../../../src/events/replay.service';
import { decodeTrend, TRENDING_WINDOWS } from '../../../src/events/trending';
import { randomEvents } from '../../factories/event.factory';
import { uniqueId } from '../../factories/sequence';
import { createTestDataSource, truncateAllTables } from '../../support/database';
import { createCatalog, OnlineSnapshot, snapshotOnlineState } from '../../support/events';
import { clearTestRedis } from '../../support/redis';
import { createTestWorker, waitForQueuesIdle } from '../../support/test-worker';

function expectTrendsClose(actual: OnlineSnapshot, live: OnlineSnapshot): void {
  for (const [id, v] of Object.entries(live.videos)) {
    const a = decodeTrend(actual.videos[id].trend);
    const l = decodeTrend(v.trend);
    if (l === null) expect(a).toBeNull();
    else for (const i of [0, 1, 2]) expect(Math.abs(a![i] - l[i])).toBeLessThan(1e-9 * Math.abs(l[i]));
  }
  for (const w of TRENDING_WINDOWS) {
    expect(live.trending[w].length).toBeGreaterThan(0);
    const members = (s: string[]) => s.filter((_, i) => i % 2 === 0);
    expect(members(actual.trending[w])).toEqual(members(live.trending[w]));
  }
}

describe(ReplayService.name, () => {
  let db: DataSource;
  let worker: INestApplicationContext;
  let videos: string[];
  const users = Array.from({ length: 6 }, () => uniqueId('u'));

  beforeAll(async () => {
    db = await createTestDataSource();
    await truncateAllTables(db);
    await clearTestRedis();
    videos = await createCatalog(db, 25);
    worker = await createTestWorker();
    const creator = worker.get(CatalogSnapshotService).get(videos[0])!.creatorId;
    await db.getRepository(FollowEntity).save({ userId: users[0], creatorId: creator });
  });

  afterAll(async () => {
    await worker.close();
    await db.destroy();
  });

  it('rebuilds from the interactions log exactly the state the live path produced', async () => {
    const queues = worker.get(EventQueuesRepository);
    // Each user sends several batches at once, with device times out of order, so the
    // live worker applies them concurrently and not in time order.
    const end = Date.now();
    await Promise.all(
      users.flatMap((u, ui) =>
        Array.from({ length: 5 }, (_, b) => {
          const batch = randomEvents(40, videos, 1000 * ui + b, end - b * 600_000).sort((x, y) => x.occurredAt - y.occurredAt);
          return queues.enqueueApply(u, batch);
        }),
      ),
    );
    await waitForQueuesIdle(worker);
    const live = await snapshotOnlineState(worker, users, videos);
    expect(Object.values(live.users).map((u) => u.state.version)).toEqual(users.map(() => 200));
    expect(live.users[users[0]].state.follows.length).toBeGreaterThan(0);

    const report = await worker.get(ReplayService).rebuild({ pageSize: 97 });
    expect(report).toMatchObject({ events: 1200, users: 6 });
    const replayed = await snapshotOnlineState(worker, users, videos);

    expect(replayed.users).toEqual(live.users);
    for (const v of videos) expect(replayed.videos[v].stats).toEqual(live.videos[v].stats);
    expectTrendsClose(replayed, live);
  });

  it('rebuilds a Redis that lost everything, and live processing carries on from it', async () => {
    const state = worker.get(OnlineStateRepository);
    const before = await snapshotOnlineState(worker, users, videos);
    expect(await state.clearOwnedKeys()).toBeGreaterThan(0);
    expect((await snapshotOnlineState(worker, users, videos)).users[users[1]].state.version).toBe(0);

    await worker.get(ReplayService).rebuild();
    const after = await snapshotOnlineState(worker, users, videos);
    expect(after.users).toEqual(before.users);
    for (const v of videos) expect(after.videos[v].stats).toEqual(before.videos[v].stats);

    await worker.get(EventQueuesRepository).enqueueApply(users[1], randomEvents(10, videos, 99));
    await waitForQueuesIdle(worker);
    const live = await snapshotOnlineState(worker, users, videos);
    expect(live.users[users[1]].state.version).toBe(210);
    const [{ seqs }] = await db.query(
      `SELECT array_agg(user_seq ORDER BY user_seq)::int[] AS seqs FROM interactions WHERE user_id = $1 AND user_seq > 200`,
      [users[1]],
    );
    expect(seqs).toEqual([201, 202, 203, 204, 205, 206, 207, 208, 209, 210]);

    await worker.get(ReplayService).rebuild();
    expect((await snapshotOnlineState(worker, users, videos)).users).toEqual(live.users);
  });
});
