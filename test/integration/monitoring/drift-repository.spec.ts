import { DataSource } from 'typeorm';
import { DriftRepository } from '../../../src/monitoring/drift.repository';
import { createTestDataSource, truncateAllTables } from '../../support/database';

const MODEL = 'm-drift-pages';

/** `count` impressions of `model` (g = 1..count): video `v_<g>`, user `u_<g % 5>`, features [g, g / 2] (or none), served at the SQL expression `servedAt`. */
async function insert(db: DataSource, model: string | null, count: number, servedAt: string, features = true): Promise<void> {
  await db.query(
    `INSERT INTO impressions (request_id, user_id, video_id, position, source, score, model_version, features, served_at)
     SELECT gen_random_uuid()::text, 'u_' || (g % 5), 'v_' || g, 0, 'test', 0.5, $1, CASE WHEN $3 THEN ARRAY[g, g / 2.0]::real[] END, ${servedAt}
       FROM generate_series(1, $2::int) AS g`,
    [model, count, features],
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
    // Within one millisecond: seven distinct microseconds, each shared by several rows (ties broken by id).
    await insert(db, MODEL, 40, `'2026-12-01 12:00:00.123456+00'::timestamptz - (g % 7) * interval '1 microsecond'`);
    // Not this model's, without features, or before the window: never read.
    await insert(db, 'm-other', 10, `'2026-12-01 12:30:00+00'::timestamptz`);
    await insert(db, MODEL, 10, `'2026-12-01 12:30:00+00'::timestamptz`, false);
    await insert(db, MODEL, 10, `'2026-12-01 10:59:59+00'::timestamptz`);
  });

  /** The rows one query in (served_at, id) order gives: what paging must reproduce. */
  async function expected(limit: number): Promise<string[]> {
    const rows: { videoId: string }[] = await db.query(
      `SELECT video_id AS "videoId" FROM impressions WHERE served_at >= $1 AND model_version = $2 AND features IS NOT NULL
        ORDER BY served_at DESC, id DESC LIMIT $3`,
      [since, MODEL, limit],
    );
    return rows.map((r) => r.videoId);
  }

  it.each([
    { limit: 23, pageRows: 5, pauses: 4 },
    { limit: 1000, pageRows: 6, pauses: 6 },
    { limit: 40, pageRows: 40, pauses: 0 },
  ])('reads the newest $limit rows in pages of $pageRows, as one query would order them', async ({ limit, pageRows, pauses }) => {
    let paused = 0;
    const rows = await repository.liveFeatureRows(MODEL, since, limit, { pageRows, betweenPages: async () => void paused++ });
    const want = await expected(limit);
    expect(want.length).toBe(Math.min(limit, 40));
    expect(rows.map((r) => r.videoId)).toEqual(want);
    expect(paused).toBe(pauses);
    const g = Number(rows[0].videoId.slice(2));
    expect(Array.from(rows[0].features)).toEqual([g, g / 2]);
    expect(rows[0].userId).toBe(`u_${g % 5}`);
  });
});
