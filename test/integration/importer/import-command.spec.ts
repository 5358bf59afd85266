import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { createTestDataSource, truncateAllTables } from '../../support/database';
import { runTs } from '../../support/run-ts';

/** A tiny MovieLens directory: 3 users, 4 movies, one bad rating line. */
function movieLensFixture(): string {
  const dir = mkdtempSync(join(tmpdir(), 'ml-'));
  writeFileSync(join(dir, 'movies.csv'), 'movieId,title,genres\n1,A (1990),Drama|Comedy\n2,"B, the (1991)",Comedy\n3,C (1992),Sci-Fi\n4,D (1993),Drama\n');
  const ratings = ['userId,movieId,rating,timestamp'];
  let t = 1_000_000_000;
  for (const [u, m, r] of [
    [1, 1, 4],
    [1, 2, 3],
    [1, 3, 5],
    [2, 1, 2.5],
    [2, 4, 4.5],
    [3, 2, 5],
  ]) ratings.push(`${u},${m},${r},${t++}`);
  ratings.push('3,99,4,1000000100');
  writeFileSync(join(dir, 'ratings.csv'), `${ratings.join('\n')}\n`);
  return dir;
}

// Each run starts a TypeScript process of the whole app: slow on a busy machine.
describe('npm run import', () => {
  let db: DataSource;

  beforeAll(async () => {
    db = await createTestDataSource();
    await truncateAllTables(db);
  });

  afterAll(() => db.destroy());

  it('imports a MovieLens directory, replays, and reports when there is not enough to train', async () => {
    const dir = movieLensFixture();
    const run = await runTs('src/cli/import.ts', ['--format', 'movielens', dir]);
    expect(run.stderr).toContain(`bad row ${dir}/ratings.csv:8: videoId is not in the catalog (got "99")`);
    expect(run.stdout).toMatch(/events: ratings\.csv: 7 rows .* 10 events, 10 new, 0 already there, 1 bad rows/);
    expect(run.stdout).toMatch(/replay: 10 events, 3 users/);
    expect(run.stdout).toMatch(/train: (skipped, |model )/);
    expect(run.code).toBe(0);

    const types = await db.query(`SELECT type, count(*)::int AS n FROM interactions GROUP BY type ORDER BY type`);
    expect(types).toEqual([
      { type: 'like', n: 4 },
      { type: 'view', n: 6 },
    ]);
    const [movie] = await db.query(`SELECT creator_id, category, tags, created_at FROM videos WHERE id = '2'`);
    expect(movie).toMatchObject({ creator_id: 'ml-2', category: 'comedy', tags: [] });
    // Dated from the year in its title.
    expect(new Date(movie.created_at).getTime()).toBe(Date.UTC(1991, 0, 1));

    const again = await runTs('src/cli/import.ts', ['--format', 'movielens', dir, '--no-train', '--no-replay']);
    expect(again.stdout).toMatch(/10 events, 0 new, 10 already there/);
    expect(again.code).toBe(0);
  }, 300_000);
});
