import { Client } from 'pg';
import { dropDatabase, ensureDatabase, splitDatabaseUrl } from '../../src/database/ensure-database';
import { testDatabaseUrl } from '../support/test-env';

describe(ensureDatabase.name, () => {
  // A scratch database named after the test database, so parallel runs on other test databases don't collide.
  const url = (() => {
    const u = new URL(testDatabaseUrl());
    u.pathname = `${u.pathname}_create_probe`;
    return u.toString();
  })();
  const { database, maintenanceUrl } = splitDatabaseUrl(url);

  async function exists(): Promise<boolean> {
    const client = new Client({ connectionString: maintenanceUrl });
    await client.connect();
    try {
      return ((await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database])).rowCount ?? 0) > 0;
    } finally {
      await client.end();
    }
  }

  beforeAll(() => dropDatabase(url));
  afterAll(() => dropDatabase(url));

  it('creates a missing database once, then leaves it alone', async () => {
    expect(await exists()).toBe(false);
    expect(await ensureDatabase(url)).toBe(true);
    expect(await exists()).toBe(true);
    expect(await ensureDatabase(url)).toBe(false);
    await dropDatabase(url);
    expect(await exists()).toBe(false);
  });

  it('reads the database name from the URL and connects to the postgres database', () => {
    expect(splitDatabaseUrl('postgres://app:s3cret@db.example:6543/reel%20rank?sslmode=require')).toEqual({
      database: 'reel rank',
      maintenanceUrl: 'postgres://app:s3cret@db.example:6543/postgres?sslmode=require',
    });
    expect(() => splitDatabaseUrl('postgres://localhost:5432/')).toThrow(/no database name/);
  });
});
