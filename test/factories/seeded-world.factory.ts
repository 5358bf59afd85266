import { Pool } from 'pg';
import { parseSeedArgs } from '../../seed/seed-options';
import { SeedCounts, writeWorld } from '../../seed/seed-writer';
import { buildWorld, World } from '../../seed/world';
import { testDatabaseUrl } from '../support/test-env';

/** Seeds the deterministic synthetic world (seed/ flags, e.g. ['--users', '200']) into the test database. */
export async function seedTestWorld(args: string[], embeddingDim = 32): Promise<{ world: World; counts: SeedCounts }> {
  const world = buildWorld(parseSeedArgs(args, embeddingDim));
  const pool = new Pool({ connectionString: testDatabaseUrl(), max: 1 });
  try {
    return { world, counts: await writeWorld(pool, world) };
  } finally {
    await pool.end();
  }
}
