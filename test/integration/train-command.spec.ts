import { DataSource } from 'typeorm';
import { seedTestWorld } from '../factories/seeded-world.factory';
import { createTestDataSource, truncateAllTables } from '../support/database';
import { runTs } from '../support/run-ts';

/**
 * `npm run train` on a seeded log weeks older than the newest event (a user acting
 * today): the default window reaches back over the seed, and a window that does not
 * says which window it read, what it found and what to pass.
 */
describe('npm run train (src/training/train.ts)', () => {
  let db: DataSource;

  beforeAll(async () => {
    db = await createTestDataSource();
    await truncateAllTables(db);
    await seedTestWorld(['--users', '80', '--videos', '400', '--history', '40', '--now', '2026-01-01T00:00:00Z']);
    const [video] = await db.query(`SELECT id FROM videos LIMIT 1`);
    await db.query(`INSERT INTO interactions (event_id, user_id, video_id, type, occurred_at) VALUES ('today-like', 'today-user', $1, 'like', now())`, [video.id]);
  }, 120_000);

  afterAll(async () => {
    await db?.destroy();
  });

  it('skips a window that misses the log, naming the window, the counts and the --window-hours that covers it', async () => {
    const { code, stdout } = await runTs('src/training/train.ts', ['--window-hours', '168', '--no-promote']);
    expect(code).toBe(0);
    expect(stdout).toMatch(/train: window \S+ to \S+ \(168 h, --window-hours\)/);
    expect(stdout).toMatch(
      /train: skipped, not enough rows in the window \S+ to \S+ \(168 h ending at the newest event\): 0 logged impressions and 0 engagements retrieval would have offered \(with 0 sampled negatives\) in it, \d+ events replayed for state; 0 rows to train on \(need 200\), 0 held out \(need 50\); the log's impressions start 2025-12-\S+: --window-hours \d+ covers them all/,
    );
    expect(await db.query(`SELECT id FROM model_versions`)).toEqual([]);
  }, 120_000);

  it('trains on the whole log by default', async () => {
    const { code, stdout, stderr } = await runTs('src/training/train.ts', ['--no-promote', '--epochs', '3']);
    expect(stderr).not.toMatch(/failed/);
    expect(code).toBe(0);
    expect(stdout).toMatch(/train: window 2025-12-\S+ to \S+ \(\d+ h, covers every logged impression\)/);
    expect(stdout).toMatch(/registered as candidate \(auto-promotion off\)/);
    const rows: { status: string }[] = await db.query(`SELECT status FROM model_versions`);
    expect(rows).toEqual([{ status: 'candidate' }]);
  }, 300_000);
});
