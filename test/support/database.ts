import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { dataSourceOptions } from '../../src/database/data-source-options';
import { testDatabaseUrl } from './test-env';

/** An initialised DataSource on the test database (migrated by global setup); destroy it in afterAll. */
export async function createTestDataSource(): Promise<DataSource> {
  return new DataSource(dataSourceOptions({ DATABASE_URL: testDatabaseUrl(), DATABASE_POOL_SIZE: 4 })).initialize();
}

/** Empties every table except the migrations log, so each suite starts from a known state. */
export async function truncateAllTables(dataSource: DataSource): Promise<void> {
  const rows: { tablename: string }[] = await dataSource.query(
    `SELECT tablename FROM pg_tables WHERE schemaname = current_schema() AND tablename <> 'migrations'`,
  );
  if (rows.length === 0) return;
  await dataSource.query(`TRUNCATE ${rows.map((r) => `"${r.tablename}"`).join(', ')} RESTART IDENTITY CASCADE`);
}
