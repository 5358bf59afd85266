import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { dataSourceOptions } from '../../src/database/data-source-options';
import { ensureDatabase } from '../../src/database/ensure-database';
import { applyTestEnv, testDatabaseUrl } from './test-env';

/** Integration/e2e global setup: creates the test database if missing and migrates it. */
export default async function globalSetup(): Promise<void> {
  applyTestEnv();
  const url = testDatabaseUrl();
  await ensureDatabase(url);
  const dataSource = new DataSource(dataSourceOptions({ DATABASE_URL: url, DATABASE_POOL_SIZE: 2 }));
  await dataSource.initialize();
  try {
    await dataSource.runMigrations({ transaction: 'each' });
  } finally {
    await dataSource.destroy();
  }
}
