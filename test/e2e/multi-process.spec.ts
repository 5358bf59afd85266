import { DataSource } from 'typeorm';
import { TokenVerifierService } from '../../src/auth/token-verifier.service';
import { loadConfig } from '../../src/config/app-config';
import { EventType } from '../../src/database/entities/interaction.entity';
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
    for (const name of ['api-a', 'api-b']) {
      const port = await freePort();
      apis.push({ proc: spawnEntry(name, 'main', { PORT: String(port), HOST: '127.0.0.1', WORKER_METRICS_PORT: '0' }), port });
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
      async () => (await Promise.all(workers.map((w) => scrapeMetric(w.port, 'reelrank_events_applied_total')))).reduce((a, b) => a + b) >= sent,
      'every event applied',
      60_000,
    );
    await eventually(async () => {
      const [{ n }] = await db.query(`SELECT count(*)::int AS n FROM interactions WHERE user_id = ANY($1)`, [users]);
      return n >= sent;
    }, 'every event logged', 60_000);

    const perWorker = await Promise.all(workers.map((w) => scrapeMetric(w.port, 'reelrank_events_applied_total')));
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
