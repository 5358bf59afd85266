/**
 * What the drift check's read of logged feature rows costs the worker: `--rows` rows of
 * `--width` floats (as the impressions table stores them, real[]) in a temporary table,
 * read as text arrays (node-postgres parses them) and in binary (`array_send`, decoded by
 * decodeFloat4ArraySend), in turn. Prints the median client CPU and wall time of each.
 * Runs in the database DATABASE_URL names (nothing is left behind).
 *
 *   npm run build && node dist/bench/monitoring/drift-rows.js [--rows 50000] [--width 29] [--runs 5]
 */
import { parseArgs } from 'node:util';
import { Pool } from 'pg';
import { decodeFloat4ArraySend } from '../../src/database/float4-array';
import { benchConfig } from '../bench-env';

const { values: args } = parseArgs({
  options: {
    rows: { type: 'string', default: '50000' },
    width: { type: 'string', default: '29' },
    runs: { type: 'string', default: '5' },
  },
});
const ROWS = Number(args.rows);
const WIDTH = Number(args.width);
const RUNS = Number(args.runs);

async function main(): Promise<void> {
  const pool = new Pool({ connectionString: benchConfig().DATABASE_URL, max: 1 });
  const client = await pool.connect();
  try {
    await client.query('CREATE TEMP TABLE drift_rows (features real[])');
    await client.query(
      `INSERT INTO drift_rows SELECT ARRAY(SELECT (random() * 10 - 5)::real FROM generate_series(1, $2) WHERE g > 0) FROM generate_series(1, $1) g`,
      [ROWS, WIDTH],
    );
    const ways = {
      'text real[]': async () => (await client.query<{ features: number[] }>('SELECT features FROM drift_rows')).rows.map((r) => r.features),
      'array_send, decoded': async () => (await client.query<{ features: Buffer }>('SELECT array_send(features) AS features FROM drift_rows')).rows.map((r) => decodeFloat4ArraySend(r.features)),
    };
    const results: Record<string, { cpu: number[]; wall: number[] }> = {};
    for (let run = 0; run < RUNS; run++) {
      for (const [name, read] of Object.entries(ways)) {
        const cpu0 = process.cpuUsage();
        const t0 = performance.now();
        const rows = await read();
        const cpu = process.cpuUsage(cpu0);
        if (rows.length !== ROWS || rows[0].length !== WIDTH) throw new Error(`${name}: read ${rows.length} rows of ${rows[0]?.length}`);
        (results[name] ??= { cpu: [], wall: [] }).cpu.push((cpu.user + cpu.system) / 1000);
        results[name].wall.push(performance.now() - t0);
      }
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    process.stdout.write(`drift feature rows, ${ROWS} x ${WIDTH} floats, median of ${RUNS} reads each:\n`);
    for (const [name, r] of Object.entries(results)) {
      process.stdout.write(`  ${name.padEnd(20)} client CPU ${median(r.cpu).toFixed(0)} ms, wall ${median(r.wall).toFixed(0)} ms\n`);
    }
  } finally {
    client.release();
    await pool.end();
  }
}

void main();
