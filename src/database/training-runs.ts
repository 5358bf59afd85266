import type { DataSource } from 'typeorm';

/** Tables holding one row per training run, keyed by `version`, with a `created_at`. */
export type TrainingRunTable = 'item_neighbours' | 'sequence_models';

/** Runs kept besides the newest, so an api loading while a new run is written still finds its row. */
const KEEP_PREVIOUS = 1;

/**
 * Writes a training run's row (replacing a row of the same version) and deletes every
 * run but the newest 1 + KEEP_PREVIOUS, in one transaction. `row` maps column names to
 * values; `version` must be one of them.
 */
export async function writeTrainingRun(db: DataSource, table: TrainingRunTable, row: Record<string, unknown>): Promise<void> {
  const columns = Object.keys(row);
  if (!columns.includes('version')) throw new Error(`writeTrainingRun(${table}): the row has no version`);
  const updates = columns.filter((c) => c !== 'version').map((c) => `${c} = EXCLUDED.${c}`);
  await db.transaction(async (q) => {
    await q.query(
      `INSERT INTO ${table} (${columns.join(', ')}) VALUES (${columns.map((_, i) => `$${i + 1}`).join(', ')})
       ON CONFLICT (version) DO UPDATE SET ${[...updates, 'created_at = now()'].join(', ')}`,
      columns.map((c) => row[c]),
    );
    await q.query(`DELETE FROM ${table} WHERE version NOT IN (SELECT version FROM ${table} ORDER BY created_at DESC, version DESC LIMIT $1)`, [
      1 + KEEP_PREVIOUS,
    ]);
  });
}

/** The newest run's row, or the named one's; null when there is none. */
export async function readTrainingRun<Row>(db: DataSource, table: TrainingRunTable, version?: string): Promise<Row | null> {
  const rows: Row[] = await db.query(
    version ? `SELECT * FROM ${table} WHERE version = $1` : `SELECT * FROM ${table} ORDER BY created_at DESC, version DESC LIMIT 1`,
    version ? [version] : [],
  );
  return rows[0] ?? null;
}
