import { PoolClient } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

export type CopyValue = string | number | boolean | Date | null | ArrayLike<number> | string[];

function encode(value: CopyValue): string {
  if (value === null) return '\\N';
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'string') return value.replace(/\\/g, '\\\\').replace(/\t/g, '\\t').replace(/\n/g, '\\n');
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  const items = Array.from(value as ArrayLike<number | string>, (v) =>
    typeof v === 'number' ? String(Math.round(v * 1e6) / 1e6) : `"${String(v).replace(/["\\]/g, '\\$&')}"`,
  );
  return encode(`{${items.join(',')}}`);
}

/**
 * Bulk-loads rows with COPY into a temporary staging table, then moves them into
 * `table` skipping rows that already exist, so loading the same rows twice is a no-op.
 */
export async function copyIdempotent(
  client: PoolClient,
  table: string,
  columns: string[],
  rows: Iterable<CopyValue[]>,
  conflict = 'ON CONFLICT DO NOTHING',
): Promise<number> {
  const staging = `staging_${table}`;
  await client.query(`CREATE TEMP TABLE ${staging} (LIKE ${table} INCLUDING DEFAULTS) ON COMMIT DROP`);
  const stream = client.query(copyFrom(`COPY ${staging} (${columns.join(',')}) FROM STDIN`));
  async function* lines() {
    let batch: string[] = [];
    for (const row of rows) {
      batch.push(row.map(encode).join('\t'));
      if (batch.length >= 2000) {
        yield batch.join('\n') + '\n';
        batch = [];
      }
    }
    if (batch.length > 0) yield batch.join('\n') + '\n';
  }
  await pipeline(Readable.from(lines()), stream);
  const cols = columns.join(',');
  const result = await client.query(`INSERT INTO ${table} (${cols}) SELECT ${cols} FROM ${staging} ${conflict}`);
  await client.query(`DROP TABLE ${staging}`);
  return result.rowCount ?? 0;
}
