import { DataSource, EntityManager } from 'typeorm';
import { DriftRepository } from '../../../src/monitoring/drift.repository';
import { createTestDataSource, truncateAllTables } from '../../support/database';

const MODEL = 'm-drift-pages';

/** `count` impressions of `model` (g = 1..count): video `v_<tag>_<g>`, user `u_<g % 5>`, features [g, g / 2] (or none), served at the SQL expression `servedAt`. */
async function insert(db: DataSource, tag: string, model: string | null, count: number, servedAt: string, features = true): Promise<void> {
  await db.query(
    `INSERT INTO impressions (request_id, user_id, video_id, position, source, score, model_version, features, served_at)
     SELECT gen_random_uuid()::text, 'u_' || (g % 5), 'v_' || $4::text || '_' || g, 0, 'test', 0.5, $1, CASE WHEN $3 THEN ARRAY[g, g / 2.0]::real[] END, ${servedAt}
       FROM generate_series(1, $2::int) AS g`,
    [model, count, features, tag],
  );
}

describe('DriftRepository.liveFeatureRows', () => {
  let db: DataSource;
  let repository: DriftRepository;
  const since = new Date('2026-12-01T11:00:00Z');

  beforeAll(async () => {
    db = await createTestDataSource();
    repository = new DriftRepository(db);
  });

  afterAll(async () => {
    await truncateAllTables(db);
    await db.destroy();
  });

  beforeEach(async () => {
    await db.query('TRUNCATE impressions RESTART IDENTITY');
    // Within one millisecond: seven distinct microseconds, each shared by several rows (ties broken by id),
    // the model's rows among another model's and the model's own without features (never read).
    const withinOneMs = `'2026-12-01 12:00:00.123456+00'::timestamptz - (g % 7) * interval '1 microsecond'`;
    await insert(db, 'a', MODEL, 20, withinOneMs);
    await insert(db, 'b', 'm-other', 10, withinOneMs);
    await insert(db, 'c', MODEL, 10, withinOneMs, false);
    await insert(db, 'd', MODEL, 20, `'2026-12-01 11:30:00+00'::timestamptz + g * interval '1 second'`);
    await insert(db, 'e', 'm-other', 10, `'2026-12-01 12:30:00+00'::timestamptz`);
    // Before the window: never read.
    await insert(db, 'f', MODEL, 10, `'2026-12-01 10:59:59+00'::timestamptz`);
  });

  /** Every impression in the window in (served_at, id) order, and whether it is one the read returns. */
  async function window(): Promise<{ videoId: string; wanted: boolean }[]> {
    const rows: { videoId: string; wanted: boolean }[] = await db.query(
      `SELECT video_id AS "videoId", (model_version = $2 AND features IS NOT NULL) AS wanted FROM impressions
        WHERE served_at >= $1 ORDER BY served_at DESC, id DESC`,
      [since, MODEL],
    );
    return rows;
  }

  it.each([
    { limit: 23, pageRows: 5 },
    { limit: 1000, pageRows: 6 },
    { limit: 40, pageRows: 40 },
    { limit: 40, pageRows: 1000 },
  ])('reads the newest $limit of the model\'s rows in pages of $pageRows, in the order one query gives', async ({ limit, pageRows }) => {
    let paused = 0;
    const rows = await repository.liveFeatureRows(MODEL, since, limit, { pageRows, betweenPages: async () => void paused++ });
    const all = await window();
    const wanted = all.filter((r) => r.wanted).map((r) => r.videoId);
    expect(wanted.length).toBe(40);
    expect(rows.map((r) => r.videoId)).toEqual(wanted.slice(0, limit));
    // A pause after each full page but the last one needed.
    const pages = limit <= wanted.length ? Math.ceil(limit / pageRows) : Math.floor(wanted.length / pageRows) + 1;
    expect(paused).toBe(pages - 1);
    const g = Number(rows[0].videoId.split('_')[2]);
    expect(Array.from(rows[0].features)).toEqual([g, g / 2]);
    expect(rows[0].userId).toBe(`u_${g % 5}`);
  });

  it('pages down the index, without sorting the window, when the statistics predate the model', async () => {
    // Statistics that know the window only as the previous model's: the new model's rows are estimated at one.
    await db.query('TRUNCATE impressions RESTART IDENTITY');
    await insert(db, 'prev', 'm-prev', 30_000, `'2026-12-01 11:00:00+00'::timestamptz + g * interval '60 ms'`);
    await db.query('ANALYZE impressions');
    await insert(db, 'new', MODEL, 20_000, `'2026-12-01 11:40:00+00'::timestamptz - g * interval '1 ms'`);
    const plans: string[] = [];
    const query = EntityManager.prototype.query;
    const spy = jest.spyOn(EntityManager.prototype, 'query').mockImplementation(async function (this: EntityManager, sql: string, params?: Parameters<EntityManager['query']>[1]) {
      if (sql.includes('FROM impressions')) plans.push(JSON.stringify(await query.call(this, `EXPLAIN (FORMAT JSON) ${sql}`, params)));
      return query.call(this, sql, params);
    });
    try {
      const rows = await repository.liveFeatureRows(MODEL, since, 12_000);
      expect(rows).toHaveLength(12_000);
    } finally {
      spy.mockRestore();
    }
    expect(plans).toHaveLength(3);
    for (const plan of plans) {
      expect(plan).toContain('"Index Name":"idx_impressions_time_id"');
      expect(plan).not.toContain('Sort');
    }
  });
});
