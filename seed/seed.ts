import { Pool } from 'pg';
import { loadConfig } from '../src/config/app-config';
import { exitOnConfigError } from '../src/config/exit-on-config-error';
import { parseSeedArgs } from './seed-options';
import { writeWorld } from './seed-writer';
import { buildWorld } from './world';

async function main(): Promise<void> {
  const config = exitOnConfigError(loadConfig);
  let size;
  try {
    size = parseSeedArgs(process.argv.slice(2), config.EMBEDDING_DIM);
  } catch (err) {
    process.stderr.write(`seed: ${(err as Error).message}\n`);
    process.exit(64);
  }
  const started = Date.now();
  const world = buildWorld(size);
  const pool = new Pool({ connectionString: config.DATABASE_URL, max: 2 });
  try {
    const inserted = await writeWorld(pool, world);
    const secs = ((Date.now() - started) / 1000).toFixed(1);
    process.stdout.write(
      `seeded in ${secs}s (new rows): ${Object.entries(inserted)
        .map(([k, v]) => `${k}=${v}`)
        .join(' ')}\n`,
    );
  } finally {
    await pool.end();
  }
}

main().catch((err) => {
  process.stderr.write(`seed failed: ${(err as Error).stack}\n`);
  process.exit(1);
});
