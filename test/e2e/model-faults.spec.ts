import { Redis } from 'ioredis';
import { setTimeout as sleep } from 'node:timers/promises';
import { DataSource } from 'typeorm';
import { RedisKeys } from '../../src/redis/redis-keys';
import { activateModel, registerModel, trainTestModel } from '../factories/model.factory';
import { userStateFrom, writeUserState } from '../factories/online-state.factory';
import { ChildApp, freePort, startApi } from '../support/child-process';
import { createTestDataSource, truncateAllTables } from '../support/database';
import { createCatalog } from '../support/events';
import { clearTestRedis, createTestRedis } from '../support/redis';
import { testRedisPrefix } from '../support/test-env';
import { FeedAnswer, feedGetter, metricOn, Outcome, tally } from '../support/traffic';

jest.setTimeout(90_000);

const FEATURES = ['video_like_rate', 'user_video_cosine', 'video_skip_rate'];
const good = trainTestModel({ id: 'mf-good', features: FEATURES, heads: ['like', 'skip'], truth: (x) => [x[0], x[2]] });
/**
 * An artifact cut in half, registered with the checksum of the cut bytes: what a
 * registry row looks like when the file was truncated before it was hashed (a partial
 * upload, a tool that wrote the row itself). The checksum passes; onnxruntime fails.
 */
const truncated = (id: string) => ({ ...good, id, artifact: good.artifact.subarray(0, Math.floor(good.artifact.length / 2)) });

/**
 * Broken models reach a real api process only through the registry table (the admin
 * endpoint refuses them: models-admin.spec.ts), so they are written there directly and
 * announced on the model channel. feed-ranking.spec.ts covers each rejection reason on
 * an in-process app; this covers a process booting on a broken model and failed swaps
 * and a deleted model under load.
 */
describe('a missing or corrupt ONNX model in a real api process', () => {
  let db: DataSource;
  let redis: Redis;
  let keys: RedisKeys;
  let api: ChildApp;
  let port: number;
  const USERS = Array.from({ length: 8 }, (_, i) => `mf-user-${i}`);
  const serving = async (version: string) => (await metricOn(port, 'reelrank_model_active', { version })) === 1;

  beforeAll(async () => {
    db = await createTestDataSource();
    await truncateAllTables(db);
    await clearTestRedis();
    redis = createTestRedis();
    keys = new RedisKeys(testRedisPrefix());
    const videos = await createCatalog(db, 60);
    // Users with a history: a user with none gets the popularity order, whatever the model.
    for (const [i, u] of USERS.entries()) {
      await writeUserState(redis, keys, u, userStateFrom(32, [{ type: 'like', video: { id: videos[i], creatorId: 'mf-creator', category: 'comedy' } }]));
    }
    await registerModel(db, good);
    await registerModel(db, truncated('mf-truncated-boot'), { status: 'active' });
    port = await freePort();
    api = await startApi(port, { MODEL_SLOW_MS: '5000' });
  }, 90_000);

  afterAll(async () => {
    await api?.stop('SIGKILL');
    await redis?.quit();
    await db?.destroy();
  });

  /** Feed requests from 4 clients in a loop while `during` runs; returns every outcome. */
  async function underLoad(during: () => Promise<void>): Promise<Outcome<FeedAnswer>[]> {
    const get = feedGetter(port, USERS);
    const outcomes: Outcome<FeedAnswer>[] = [];
    let running = true;
    const clients = Array.from({ length: 4 }, async (_, c) => {
      for (let n = c; running && n < 20_000; n += 4) outcomes.push(await get(n));
    });
    try {
      await during();
    } finally {
      running = false;
      await Promise.all(clients);
    }
    return outcomes;
  }

  it('boots on a truncated active model: rejects it and ranks with the heuristic, no request failing', async () => {
    expect(await metricOn(port, 'reelrank_model_loads_total', { result: 'rejected', reason: 'load' })).toBe(1);
    expect(await serving('heuristic')).toBe(true);
    const before = await metricOn(port, 'reelrank_feed_fallback_total', { reason: 'no_model' });
    const outcomes = await underLoad(() => sleep(1000));
    expect(tally(outcomes)).toEqual({ '200': outcomes.length });
    expect(outcomes.every((o) => o.body!.items.length === 10)).toBe(true);
    expect(await metricOn(port, 'reelrank_feed_fallback_total', { reason: 'no_model' })).toBe(before + outcomes.length);
    expect(api.logs.some((l) => /model mf-truncated-boot rejected \(load\)/.test(l.msg ?? ''))).toBe(true);
  });

  it('keeps serving the current model when a truncated one is activated, and falls back when the active row is deleted', async () => {
    await activateModel(db, redis, keys, good.id);
    const deadline = Date.now() + 15_000;
    while (!(await serving(good.id)) && Date.now() < deadline) await sleep(100);
    expect(await serving(good.id)).toBe(true);

    const rejectedBefore = await metricOn(port, 'reelrank_model_loads_total', { result: 'rejected' });
    const noModelBefore = await metricOn(port, 'reelrank_feed_fallback_total', { reason: 'no_model' });
    let afterDelete = 0;
    const outcomes = await underLoad(async () => {
      await sleep(300);
      await registerModel(db, truncated('mf-truncated-swap'));
      await activateModel(db, redis, keys, 'mf-truncated-swap');
      const until = Date.now() + 10_000;
      while ((await metricOn(port, 'reelrank_model_loads_total', { result: 'rejected' })) === rejectedBefore && Date.now() < until) await sleep(50);
      await sleep(300);
      // the previous model still serves after the failed swap
      expect(await serving(good.id)).toBe(true);
      expect(await metricOn(port, 'reelrank_feed_fallback_total', { reason: 'no_model' })).toBe(noModelBefore);

      // the registry loses the active row (and the previous one): the api falls back to the heuristic
      await db.query(`DELETE FROM model_versions WHERE status = 'active' OR id = $1`, [good.id]);
      await redis.publish(keys.modelChannel, 'deleted');
      const fallback = Date.now() + 10_000;
      while (!(await serving('heuristic')) && Date.now() < fallback) await sleep(50);
      afterDelete = Date.now();
      await sleep(500);
    });
    console.log(
      'model faults under load\n%s',
      JSON.stringify({ requests: tally(outcomes), noModelFallbacks: (await metricOn(port, 'reelrank_feed_fallback_total', { reason: 'no_model' })) - noModelBefore }),
    );

    expect(await metricOn(port, 'reelrank_model_loads_total', { result: 'rejected', reason: 'load' })).toBe(2);
    expect(await serving('heuristic')).toBe(true);
    expect(tally(outcomes)).toEqual({ '200': outcomes.length });
    expect(outcomes.every((o) => o.body!.items.length === 10)).toBe(true);
    expect(outcomes.filter((o) => o.sentAt > afterDelete).length).toBeGreaterThan(0);
    expect(await metricOn(port, 'reelrank_feed_fallback_total', { reason: 'no_model' })).toBeGreaterThan(noModelBefore);
    expect(api.logs.filter((l) => l.level >= 50 && !/rejected/.test(l.msg ?? ''))).toEqual([]);
  });
});
