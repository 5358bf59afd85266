import { Pool } from 'pg';
import { DataSource } from 'typeorm';
import { parseSeedArgs } from '../../seed/seed-options';
import { writeWorld } from '../../seed/seed-writer';
import { buildWorld } from '../../seed/world';
import { createTestDataSource, truncateAllTables } from '../support/database';
import { testDatabaseUrl } from '../support/test-env';

const TABLES = ['users', 'creators', 'videos', 'follows', 'impressions', 'interactions'] as const;

async function rowCounts(dataSource: DataSource): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const table of TABLES) {
    const [{ n }] = await dataSource.query(`SELECT count(*)::int AS n FROM ${table}`);
    counts[table] = n;
  }
  return counts;
}

describe('seed', () => {
  let dataSource: DataSource;
  let pool: Pool;

  beforeAll(async () => {
    dataSource = await createTestDataSource();
    pool = new Pool({ connectionString: testDatabaseUrl(), max: 2 });
    await truncateAllTables(dataSource);
  });

  afterAll(async () => {
    await pool.end();
    await dataSource.destroy();
  });

  it('writes the world once; seeding it again inserts nothing', async () => {
    const world = buildWorld(parseSeedArgs(['--users', '30', '--videos', '200', '--history', '5'], 32));
    expect(await rowCounts(dataSource)).toEqual({ users: 0, creators: 0, videos: 0, follows: 0, impressions: 0, interactions: 0 });

    const first = await writeWorld(pool, world);
    expect(first).toMatchObject({ users: 30, creators: 10, videos: 200, impressions: 150 });
    expect(first.follows).toBe(world.users.reduce((n, u) => n + u.follows.length, 0));
    expect(first.interactions).toBeGreaterThan(first.impressions);
    const counts = await rowCounts(dataSource);
    expect(counts).toEqual(first);

    const second = await writeWorld(pool, world);
    expect(second).toEqual({ users: 0, creators: 0, videos: 0, follows: 0, impressions: 0, interactions: 0 });
    expect(await rowCounts(dataSource)).toEqual(counts);

    const [video] = await dataSource.query(
      `SELECT id, creator_id, category, tags, duration_ms, embedding, status FROM videos ORDER BY id LIMIT 1`,
    );
    expect(video).toMatchObject({ id: 'v_0000001', status: 'active' });
    expect(video.duration_ms).toBeGreaterThanOrEqual(5000);
    expect(video.tags).toContain(video.category);
    if (video.embedding) expect(video.embedding).toHaveLength(32);
  });

  it('ends the history an hour before now by default, and a later reseed of the same world inserts nothing', async () => {
    await truncateAllTables(dataSource);
    const args = ['--users', '20', '--videos', '100', '--history', '5'];
    const before = Date.now();
    await writeWorld(pool, buildWorld(parseSeedArgs(args, 32)));
    const after = Date.now();
    const [{ earliest, latest }] = await dataSource.query(`SELECT min(occurred_at) AS earliest, max(occurred_at) AS latest FROM interactions`);
    // The last week (--history-days 7) up to an hour ago (plus the last events' watch time).
    expect(new Date(earliest).getTime()).toBeGreaterThanOrEqual(before - 7 * 86_400_000 - 3_600_000);
    expect(new Date(latest).getTime()).toBeLessThanOrEqual(after - 3_600_000 + 120_000);

    const later = new Date(Date.now() + 86_400_000).toISOString();
    const again = await writeWorld(pool, buildWorld(parseSeedArgs([...args, '--now', later], 32)));
    expect(again).toEqual({ users: 0, creators: 0, videos: 0, follows: 0, impressions: 0, interactions: 0 });
  });
});
