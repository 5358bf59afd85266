import { loadConfig } from '../src/config/app-config';
import { exitOnConfigError } from '../src/config/exit-on-config-error';
import { ensureDatabase, splitDatabaseUrl } from '../src/database/ensure-database';

/** `npm run db:create`: creates the database named in DATABASE_URL if it does not exist. */
async function main(): Promise<void> {
  const { DATABASE_URL } = exitOnConfigError(loadConfig);
  const { database } = splitDatabaseUrl(DATABASE_URL);
  const created = await ensureDatabase(DATABASE_URL);
  process.stdout.write(created ? `created database ${database}\n` : `database ${database} already exists\n`);
}

main().catch((err) => {
  process.stderr.write(`db:create failed: ${(err as Error).message}\n`);
  process.exit(1);
});
