import { DataSource } from 'typeorm';
import { MIGRATIONS } from '../../src/database/data-source-options';
import { createTestDataSource } from '../support/database';
import { createVideo } from '../factories/video.factory';

async function tables(dataSource: DataSource): Promise<string[]> {
  const rows: { tablename: string }[] = await dataSource.query(
    `SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY tablename`,
  );
  return rows.map((r) => r.tablename);
}

describe('migrations', () => {
  let dataSource: DataSource;

  beforeAll(async () => {
    dataSource = await createTestDataSource();
  });

  afterAll(async () => {
    // Leave the test database migrated for the suites that follow, even if a step failed.
    await dataSource.runMigrations({ transaction: 'each' });
    await dataSource.destroy();
  });

  it('are all applied by global setup', async () => {
    expect(await dataSource.showMigrations()).toBe(false);
    expect(await tables(dataSource)).toEqual(
      expect.arrayContaining(['users', 'creators', 'videos', 'follows', 'interactions', 'impressions', 'model_versions']),
    );
  });

  it('run down to an empty schema and up again, with data in the tables', async () => {
    await createVideo(dataSource);
    const before = await tables(dataSource);

    for (let i = 0; i < MIGRATIONS.length; i++) {
      await dataSource.undoLastMigration({ transaction: 'each' });
    }
    expect(await tables(dataSource)).toEqual(['migrations']);
    expect(await dataSource.query('SELECT name FROM migrations')).toEqual([]);

    const applied = await dataSource.runMigrations({ transaction: 'each' });
    expect(applied.map((m) => m.name)).toEqual(MIGRATIONS.map((m) => m.name));
    expect(await tables(dataSource)).toEqual(before);
    expect(await dataSource.showMigrations()).toBe(false);
    await expect(createVideo(dataSource)).resolves.toBeDefined();
  });
});
