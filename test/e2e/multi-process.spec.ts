import { DataSource } from 'typeorm';
import { TokenVerifierService } from '../../src/auth/token-verifier.service';
import { loadConfig } from '../../src/config/app-config';
import { EventType } from '../../src/events/event-types';
import { registerModel, trainTestModel } from '../factories/model.factory';
import { uniqueId } from '../factories/sequence';
import { createTestDataSource, truncateAllTables } from '../support/database';
import { createCatalog } from '../support/events';
import { AppProcess, buildDist, freePort, scrapeMetric, spawnEntry, waitForHttp } from '../support/processes';
import { clearTestRedis } from '../support/redis';
import { eventually } from '../support/test-worker';

/**
 * Two api and two worker processes (the built dist, as deployed) on one Postgres,
 * one Redis and one prefix.
 */
const models = ['mp-model-1', 'mp-model-2'].map((id, i) =>
  trainTestModel({
    id,
    features: ['video_like_rate', 'user_video_cosine', 'video_skip_rate'],
    heads: ['like', 'skip'],
    truth: (x) => [x[i], x[2 - i]],
    seed: 21 + i,
  }),
);

describe('several api and worker processes', () => {
  let db: DataSource;
  let videos: string[];
  const apis: { proc: AppProcess; port: number }[] = [];
  const workers: { proc: AppProcess; port: number }[] = [];
  const tokens = new TokenVerifierService(loadConfig());

  beforeAll(async () => {
    buildDist();
    db = await createTestDataSource();
    await truncateAllTables(db);
    await clearTestRedis();
    videos = await createCatalog(db, 40);
    for (const model of models) await registerModel(db, model);
    for (const name of ['api-a', 'api-b']) {
      const port = await freePort();
      // A generous Redis budget: on this busy machine a slow read would send a page down the
      // degraded path (no served set), which is not what this test is about.
      const env = { PORT: String(port), HOST: '127.0.0.1', WORKER_METRICS_PORT: '0', FEED_REDIS_BUDGET_MS: '1000' };
      apis.push({ proc: spawnEntry(name, 'main', env), port });
    }
    for (const name of ['worker-1', 'worker-2']) {
      const port = await freePort();
      workers.push({ proc: spawnEntry(name, 'worker', { WORKER_METRICS_PORT: String(port) }), port });
    }
    await Promise.all([
      ...apis.map((a) => waitForHttp(a.proc, a.port, '/health/ready')),
      ...workers.map((w) => waitForHttp(w.proc, w.port, '/metrics')),
    ]);
  }, 180_000);

  afterAll(async () => {
    await Promise.all([...apis, ...workers].map(({ proc }) => proc.stop()));
    await db?.destroy();
  });

  const feedPage = async (api: number, userId: string, cursor?: string) => {
    const query = new URLSearchParams({ limit: '6', ...(cursor ? { cursor } : {}) });
    const res = await fetch(`http://127.0.0.1:${apis[api].port}/v1/feed?${query}`, {
      headers: { authorization: `Bearer ${await tokens.issue(userId)}` },
    });
    expect(res.status).toBe(200);
    return (await res.json()) as { requestId: string; items: { videoId: string; source: string }[]; nextCursor: string };
  };

  const metricOn = async (api: number, name: string, reason: string) => {
    const text = await (await fetch(`http://127.0.0.1:${apis[api].port}/metrics`)).text();
    return Number(new RegExp(`^${name}\\{reason="${reason}"\\} (\\S+)$`, 'm').exec(text)?.[1] ?? 0);
  };

  /** 1 when the api serves with `version` (the ranking runtime's gauge on each api's /metrics). */
  const activeVersion = async (api: number, version: string) => {
    const text = await (await fetch(`http://127.0.0.1:${apis[api].port}/metrics`)).text();
    return new RegExp(`^reelrank_model_active\\{[^}]*version="${version}"[^}]*\\} 1$`, 'm').test(text);
  };

  it('brings every api to a model activated through either api within seconds', async () => {
    for (const [i, model] of models.entries()) {
      const started = Date.now();
      const res = await fetch(`http://127.0.0.1:${apis[i % 2].port}/v1/admin/models/${model.id}/activate`, {
        method: 'POST',
        headers: { 'x-api-key': loadConfig().ADMIN_API_KEY },
      });
      expect(res.status).toBe(200);
      await eventually(
        async () => (await activeVersion(0, model.id)) && (await activeVersion(1, model.id)),
        `both apis on ${model.id}`,
        10_000,
      );
      expect(Date.now() - started).toBeLessThan(10_000);
      expect(await activeVersion(0, models[1 - i].id)).toBe(false);
    }
  }, 60_000);

  it('keeps one session consistent when its pages come from different apis: no repeats, nothing watched', async () => {
    const userId = uniqueId('mf');
    const watched = videos.slice(0, 4);
    await post(0, userId, watched.map((videoId, i) => ({ eventId: `${userId}-w${i}`, type: 'complete', videoId, watchMs: 15_000 })));
    await eventually(async () => {
      const res = await fetch(`http://127.0.0.1:${apis[1].port}/v1/me/features`, { headers: { authorization: `Bearer ${await tokens.issue(userId)}` } });
      return ((await res.json()) as { eventsApplied: number }).eventsApplied === watched.length;
    }, 'the watched videos applied');

    const served: string[] = [];
    const requestIds = new Set<string>();
    let cursor: string | undefined;
    for (let page = 0; page < 5; page++) {
      const body = await feedPage(page % 2, userId, cursor);
      expect(body.items.length).toBeGreaterThan(0);
      served.push(...body.items.map((i) => i.videoId));
      requestIds.add(body.requestId);
      cursor = body.nextCursor;
    }
    expect(requestIds.size).toBe(5);
    const degraded = await Promise.all(
      [0, 1].flatMap((api) =>
        ['redis_timeout', 'redis_unavailable'].map((reason) => metricOn(api, 'reelrank_feed_fallback_total', reason)),
      ),
    );
    expect(degraded.reduce((a, b) => a + b)).toBe(0);
    expect(new Set(served).size).toBe(served.length);
    expect(served.filter((v) => watched.includes(v))).toEqual([]);
  }, 60_000);

  const post = async (api: number, userId: string, events: object[]) => {
    const res = await fetch(`http://127.0.0.1:${apis[api].port}/v1/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${await tokens.issue(userId)}` },
      body: JSON.stringify({ events }),
    });
    expect(res.status).toBe(202);
    return (await res.json()) as { accepted: number; duplicates: number };
  };

  it('processes events posted to either api exactly once, with both workers sharing the work', async () => {
    const users = Array.from({ length: 30 }, () => uniqueId('mu'));
    const types: EventType[] = ['view', 'like', 'complete', 'skip', 'share', 'comment'];
    const appliedBefore = await Promise.all(workers.map((w) => scrapeMetric(w.port, 'reelrank_events_applied_total')));
    const appliedSince = async () =>
      (await Promise.all(workers.map((w, i) => scrapeMetric(w.port, 'reelrank_events_applied_total').then((n) => n - appliedBefore[i]))));
    const expected = new Map<string, Record<string, number>>();
    let accepted = 0;
    let duplicates = 0;
    await Promise.all(
      users.map(async (userId, u) => {
        const counts: Record<string, number> = {};
        for (let batch = 0; batch < 4; batch++) {
          const events = Array.from({ length: 5 }, (_, i) => {
            const type = types[(u + batch + i) % types.length];
            counts[type] = (counts[type] ?? 0) + 1;
            return { eventId: `${userId}-${batch}-${i}`, type, videoId: videos[(u * 3 + batch * 5 + i) % videos.length], watchMs: 2000 };
          });
          // Each batch goes to one api, then again to the other (a client retrying elsewhere).
          const first = await post(batch % 2, userId, events);
          const again = await post((batch + 1) % 2, userId, events);
          accepted += first.accepted + again.accepted;
          duplicates += first.duplicates + again.duplicates;
        }
        expected.set(userId, counts);
      }),
    );
    const sent = users.length * 20;
    expect({ accepted, duplicates }).toEqual({ accepted: sent, duplicates: sent });

    await eventually(
      async () => (await appliedSince()).reduce((a, b) => a + b) >= sent,
      'every event applied',
      60_000,
    );
    await eventually(async () => {
      const [{ n }] = await db.query(`SELECT count(*)::int AS n FROM interactions WHERE user_id = ANY($1)`, [users]);
      return n >= sent;
    }, 'every event logged', 60_000);

    const perWorker = await appliedSince();
    expect(perWorker.reduce((a, b) => a + b)).toBe(sent);
    for (const n of perWorker) expect(n).toBeGreaterThan(0);
    const [{ n, distinctEvents }] = await db.query(
      `SELECT count(*)::int AS n, count(DISTINCT (user_id, event_id))::int AS "distinctEvents" FROM interactions WHERE user_id = ANY($1)`,
      [users],
    );
    expect({ n, distinctEvents }).toEqual({ n: sent, distinctEvents: sent });

    for (const [userId, counts] of expected) {
      const res = await fetch(`http://127.0.0.1:${apis[1].port}/v1/me/features`, {
        headers: { authorization: `Bearer ${await tokens.issue(userId)}` },
      });
      const body = (await res.json()) as { counts: Record<string, number>; eventsApplied: number };
      expect(body.counts).toMatchObject(counts);
      expect(body.eventsApplied).toBe(20);
    }
  }, 120_000);
});
