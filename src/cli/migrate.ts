import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { loadConfig } from '../config/app-config';
import { exitOnConfigError } from '../config/exit-on-config-error';
import { dataSourceOptions } from '../database/data-source-options';

/**
 * `npm run migrate`: applies the pending migrations in one transaction and names each.
 * Their SQL is printed only with LOG_LEVEL=debug or trace (the TypeORM CLI always prints it).
 */
async function main(): Promise<void> {
  const config = exitOnConfigError(loadConfig);
  const verbose = config.LOG_LEVEL === 'debug' || config.LOG_LEVEL === 'trace';
  const dataSource = new DataSource({ ...dataSourceOptions(config), logging: verbose ? ['query', 'error', 'schema'] : ['error'] });
  await dataSource.initialize();
  try {
    const applied = await dataSource.runMigrations({ transaction: 'all' });
    const names = applied.map((m) => m.name).join(', ');
    process.stdout.write(applied.length ? `migrate: applied ${applied.length} (${names})\n` : 'migrate: schema up to date\n');
  } finally {
    await dataSource.destroy();
  }
}

main().catch((err) => {
  process.stderr.write(`migrate failed: ${(err as Error).stack}\n`);
  process.exit(1);
});
