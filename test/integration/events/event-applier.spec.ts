import { INestApplicationContext } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { CatalogSnapshotService } from '../../../src/catalog/catalog-snapshot.service';
import { FollowEntity } from '../../../src/database/entities';
import { EventApplierService } from '../../../src/events/event-applier.service';
import { toFeatureEvent } from '../../../src/events/event-jobs';
import { OnlineStateRepository } from '../../../src/events/online-state.repository';
import { decodeTrend, logAddExp, trendIncrements } from '../../../src/events/trending';
import { AnyRedis } from '../../../src/redis/redis-connection';
import { REDIS } from '../../../src/redis/redis.constants';
import { RedisKeys } from '../../../src/redis/redis-keys';
import { applyUserEvent, decodeUserState, emptyUserState } from '../../../src/features/user-state';
import { USER_STATE_MAGIC } from '../../../src/features/user-state-binary';
import { legacyUserStateJson } from '../../support/legacy-user-state';
import { applyVideoStatDelta, emptyVideoStats, videoStatDelta } from '../../../src/features/video-stats';
import { buildApplyJob, buildQueuedEvent, randomEvents } from '../../factories/event.factory';
import { uniqueId } from '../../factories/sequence';
import { createTestDataSource, truncateAllTables } from '../../support/database';
import { createCatalog, snapshotOnlineState } from '../../support/events';
import { clearTestRedis } from '../../support/redis';
import { createTestWorker } from '../../support/test-worker';

describe(EventApplierService.name, () => {
  let db: DataSource;
  let worker: INestApplicationContext;
  let applier: EventApplierService;
  let catalog: CatalogSnapshotService;
  let videos: string[];

  beforeAll(async () => {
    db = await createTestDataSource();
    await truncateAllTables(db);
    await clearTestRedis();
    videos = await createCatalog(db, 36);
    worker = await createTestWorker();
    applier = worker.get(EventApplierService);
    catalog = worker.get(CatalogSnapshotService);
  });

  afterAll(async () => {
    await worker.close();
    await db.destroy();
  });

  /** What applying the events once, in order, must produce. */
  function expected(userId: string, events: ReturnType<typeof randomEvents>) {
    const state = emptyUserState(32);
    const stats = new Map<string, ReturnType<typeof emptyVideoStats>>();
    for (const e of events) {
      applyUserEvent(state, toFeatureEvent(userId, e), catalog.get(e.videoId) ?? null);
      state.version += 1;
      stats.set(e.videoId, applyVideoStatDelta(stats.get(e.videoId) ?? emptyVideoStats(), videoStatDelta(e.type, e.watchMs)));
    }
    return { state, stats };
  }

  async function logged(userId: string): Promise<{ event_id: string; user_seq: string }[]> {
    return db.query(`SELECT event_id, user_seq FROM interactions WHERE user_id = $1 ORDER BY user_seq`, [userId]);
  }

  it('has the effect of a job exactly once however many times it runs, in turn or at once', async () => {
    const userId = uniqueId('u');
    const job = buildApplyJob(userId, randomEvents(30, videos.slice(0, 6), 7).sort((a, b) => a.occurredAt - b.occurredAt));
    const first = await applier.apply(job);
    expect(first.applied).toBe(30);
    expect((await applier.apply(job)).applied).toBe(0);
    await Promise.all([applier.apply(job), applier.apply(job), applier.apply(job)]);

    const want = expected(userId, job.events);
    const snap = await snapshotOnlineState(worker, [userId], videos.slice(0, 6));
    expect(snap.users[userId].state).toEqual(want.state);
    for (const v of videos.slice(0, 6)) expect(snap.videos[v].stats).toEqual(want.stats.get(v) ?? emptyVideoStats());
    const rows = await logged(userId);
    expect(rows.map((r) => Number(r.user_seq))).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
  });

  it('goes on from a state stored as JSON (before the binary form) and stores it binary', async () => {
    const userId = uniqueId('u');
    const events = randomEvents(12, videos.slice(32, 36), 5).sort((a, b) => a.occurredAt - b.occurredAt);
    const before = buildApplyJob(userId, events.slice(0, 6));
    const after = buildApplyJob(userId, events.slice(6));
    const redis = worker.get<AnyRedis>(REDIS);
    const key = worker.get(RedisKeys).userFeatures(userId);
    // What an earlier worker stored after the first six events (the log already holds them).
    await applier.apply(before);
    await redis.set(key, JSON.stringify(legacyUserStateJson(expected(userId, before.events).state)));

    expect((await applier.apply(after)).applied).toBe(6);
    const stored = await redis.getBuffer(key);
    expect(stored![0]).toBe(USER_STATE_MAGIC);
    expect(decodeUserState(stored, 32)).toEqual(expected(userId, events).state);
  });

  it('loses and duplicates nothing when runs die between steps', async () => {
    const userId = uniqueId('u');
    const job = buildApplyJob(userId, randomEvents(20, videos.slice(6, 14), 11).sort((a, b) => a.occurredAt - b.occurredAt));
    // A first run dies after the user step; a second one after the video script, before the trending sets and the log.
    await applier.applyToUser(job);
    await applier.applyToUser(job);
    await applier.applyToVideos(job);
    // The retry runs the whole job.
    await applier.apply(job);

    const want = expected(userId, job.events);
    const snap = await snapshotOnlineState(worker, [userId], videos.slice(6, 14));
    expect(snap.users[userId].state).toEqual(want.state);
    for (const v of videos.slice(6, 14)) expect(snap.videos[v].stats).toEqual(want.stats.get(v) ?? emptyVideoStats());
    expect(snap.trending['1h'].length).toBeGreaterThan(0);
    expect(await logged(userId)).toHaveLength(20);
  });

  it("applies every event of a user's concurrent jobs once, each with its own seq (compare-and-set)", async () => {
    const userId = uniqueId('u');
    const mine = videos.slice(14, 26);
    const jobs = Array.from({ length: 8 }, (_, i) => buildApplyJob(userId, randomEvents(10, mine, 100 + i)));
    await Promise.all(jobs.map((j) => applier.apply(j)));

    const all = jobs.flatMap((j) => j.events);
    const snap = await snapshotOnlineState(worker, [userId], mine);
    const state = snap.users[userId].state;
    expect(state.version).toBe(80);
    for (const type of new Set(all.map((e) => e.type))) {
      expect(state.counts[type]).toBe(all.filter((e) => e.type === type).length);
    }
    const views = all.filter((e) => e.type === 'view');
    expect(mine.reduce((n, v) => n + snap.videos[v].stats.views, 0)).toBe(views.length);
    const rows = await logged(userId);
    expect(rows.map((r) => Number(r.user_seq))).toEqual(Array.from({ length: 80 }, (_, i) => i + 1));
  });

  it('treats event ids as unique per user: two users may send the same id', async () => {
    const [a, b] = [uniqueId('u'), uniqueId('u')];
    const event = buildQueuedEvent({ eventId: 'same-id', videoId: videos[26], type: 'like' });
    await applier.apply(buildApplyJob(a, [event]));
    await applier.apply(buildApplyJob(b, [event]));

    const snap = await snapshotOnlineState(worker, [a, b], [videos[26]]);
    expect(snap.videos[videos[26]].stats.likes).toBe(2);
    expect(snap.users[a].state.counts.like).toBe(1);
    expect(snap.users[b].state.counts.like).toBe(1);
    expect(await logged(a)).toHaveLength(1);
    expect(await logged(b)).toHaveLength(1);
  });

  it('keeps the 1h and 24h scores of a trend record written before the 30-day window and starts its 30-day score', async () => {
    const [legacyVideo, newVideo] = [videos[30], videos[31]];
    const redis = worker.get<AnyRedis>(REDIS);
    const keys = worker.get(RedisKeys);
    const legacy = Buffer.alloc(16);
    legacy.writeDoubleLE(500.25, 0);
    legacy.writeDoubleLE(20.5, 8);
    await redis.set(keys.videoTrend(legacyVideo), legacy);
    const like = buildQueuedEvent({ videoId: legacyVideo, type: 'like' });
    const share = buildQueuedEvent({ videoId: newVideo, type: 'share' });
    await applier.apply(buildApplyJob(uniqueId('u'), [like, share]));

    const inc = trendIncrements('like', like.occurredAt)!;
    const snap = await snapshotOnlineState(worker, [], [legacyVideo, newVideo]);
    expect(snap.videos[legacyVideo].trend).toHaveLength(24);
    const [hour, day, month] = decodeTrend(snap.videos[legacyVideo].trend)!;
    // Lua's libm and V8's may differ in the last bit of log/exp.
    expect(Math.abs(hour - logAddExp(500.25, inc[0]))).toBeLessThan(1e-12 * hour);
    expect(Math.abs(day - logAddExp(20.5, inc[1]))).toBeLessThan(1e-12 * day);
    expect(month).toBe(inc[2]);
    expect(decodeTrend(snap.videos[newVideo].trend)).toEqual(trendIncrements('share', share.occurredAt));
    const set = snap.trending['30d'];
    expect(Number(set[set.indexOf(legacyVideo) + 1])).toBe(inc[2]);
    expect(set).toContain(newVideo);
  });

  it('starts a new user from the follows table and records what they saw', async () => {
    const userId = uniqueId('u');
    const creator = catalog.get(videos[27])!.creatorId;
    await db.getRepository(FollowEntity).save({ userId, creatorId: creator });
    const older = buildQueuedEvent({ videoId: videos[28], type: 'view', occurredAt: Date.now() - 60_000 });
    const newer = buildQueuedEvent({ videoId: videos[29], type: 'skip', watchMs: 800 });
    await applier.apply(buildApplyJob(userId, [older, newer]));

    const snap = await snapshotOnlineState(worker, [userId], []);
    expect(snap.users[userId].state.follows).toEqual([creator]);
    expect(snap.users[userId].seen).toEqual([videos[28], String(older.occurredAt), videos[29], String(newer.occurredAt)]);
    const freshness = await worker.get(OnlineStateRepository).readUserFeatures(userId);
    expect(freshness.appliedAt).toBeGreaterThanOrEqual(newer.receivedAt);
  });
});
