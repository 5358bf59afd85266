import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { Pool } from 'pg';
import { AppConfig, loadConfig } from '../src/config/app-config';
import { exitOnConfigError } from '../src/config/exit-on-config-error';

/** What every benchmark shares with the app: the validated config, free ports, readiness, its own database's CPU. */

/**
 * The app's validated config read from the environment (REDIS_URL, DATABASE_URL, ...),
 * with the bench's own settings on top; exits with the list of bad variables as the app does.
 */
export function benchConfig(overrides: Record<string, string> = {}): AppConfig {
  return exitOnConfigError(() => loadConfig({ ...process.env, ...overrides }));
}

/** DATABASE_URL with another database name: a bench's own database on the configured server. */
export function withDatabase(databaseUrl: string, database: string): string {
  const url = new URL(databaseUrl);
  url.pathname = `/${database}`;
  return url.toString();
}

/** A TCP port the OS says is free now (BENCH_PORT-style settings still win where a bench reads them). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/**
 * Waits until `/health/ready` answers 200: Redis answers and the boot warm-up (the ANN
 * index build) is done. The model is loaded and warmed before the server listens.
 */
export async function waitForReady(baseUrl: string, timeoutMs = 300_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const res = await fetch(`${baseUrl}/health/ready`, { headers: { connection: 'close' } });
      if (res.status === 200) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${baseUrl} not ready (warm-up) within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

const CLOCK_TICKS = 100;

/** CPU (user + system, ms) of one process from /proc, or null when it is gone or not readable. */
export function procCpuMs(pid: number): number | null {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
  } catch {
    return null;
  }
}

/**
 * CPU of the Postgres backends of one database (pg_stat_activity, so autovacuum of that
 * database counts and other databases do not), read from /proc: only when Postgres runs
 * on this host. A backend that exits between two samples takes its CPU with it, so
 * `lost` says how many did; long-lived pools (the api's, the worker's) lose nothing.
 */
export class DatabaseCpu {
  private constructor(
    private readonly pool: Pool,
    private readonly database: string,
  ) {}

  /** null (and why) when the backends' CPU cannot be read here. */
  static async open(databaseUrl: string): Promise<{ cpu: DatabaseCpu | null; why?: string }> {
    const pool = new Pool({ connectionString: databaseUrl, max: 1 });
    const database = decodeURIComponent(new URL(databaseUrl).pathname.slice(1));
    const cpu = new DatabaseCpu(pool, database);
    const { rows } = await pool.query(`SELECT pg_backend_pid() AS pid`);
    const stat = (() => {
      try {
        return readFileSync(`/proc/${rows[0].pid}/stat`, 'utf8');
      } catch {
        return '';
      }
    })();
    if (!stat.includes('(postgres)')) {
      await pool.end();
      return { cpu: null, why: 'Postgres does not run on this host (its backends are not in /proc)' };
    }
    return { cpu };
  }

  async sample(): Promise<Map<number, number>> {
    const { rows } = await this.pool.query(`SELECT pid FROM pg_stat_activity WHERE datname = $1`, [this.database]);
    const out = new Map<number, number>();
    for (const { pid } of rows as { pid: number }[]) {
      const ms = procCpuMs(pid);
      if (ms !== null) out.set(pid, ms);
    }
    return out;
  }

  /** CPU ms the database's backends used between two samples; backends born meanwhile count whole. */
  static between(before: Map<number, number>, after: Map<number, number>): { ms: number; lost: number } {
    let ms = 0;
    for (const [pid, t] of after) ms += t - (before.get(pid) ?? 0);
    let lost = 0;
    for (const pid of before.keys()) if (!after.has(pid)) lost++;
    return { ms, lost };
  }

  /**
   * Samples every `everyMs` until stopped, so backends that exit meanwhile (a pool's idle
   * timeout) count up to their last sample; `lost` counts those gone since their last one.
   */
  track(everyMs = 500): { stop: () => Promise<{ ms: number; lost: number }> } {
    const first = new Map<number, number>();
    const last = new Map<number, number>();
    let running = true;
    let wake = () => {};
    const loop = (async () => {
      let latest = await this.sample();
      for (const [pid, t] of latest) first.set(pid, t);
      for (;;) {
        // Backends born after the first sample count whole.
        for (const [pid, t] of latest) {
          if (!first.has(pid)) first.set(pid, 0);
          last.set(pid, t);
        }
        if (!running) return latest;
        await new Promise<void>((r) => {
          const timer = setTimeout(r, everyMs);
          wake = () => {
            clearTimeout(timer);
            r();
          };
        });
        latest = await this.sample();
      }
    })();
    return {
      stop: async () => {
        running = false;
        wake();
        const final = await loop;
        let ms = 0;
        for (const [pid, t] of last) ms += t - (first.get(pid) ?? 0);
        let lost = 0;
        for (const pid of last.keys()) if (!final.has(pid)) lost++;
        return { ms, lost };
      },
    };
  }

  close(): Promise<void> {
    return this.pool.end();
  }
}

/**
 * The node flags the api runs with in production: those of package.json's start:api (the
 * Dockerfile's CMD has the same), so a bench starts the api as it is deployed.
 */
export function apiNodeArgs(): string[] {
  const { scripts } = JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')) as { scripts: Record<string, string> };
  // "node [flags...] dist/src/main.js"
  return scripts['start:api'].trim().split(/\s+/).slice(1, -1);
}

/**
 * The env of an api a feed bench starts on its world: the world's database and Redis
 * prefix, production mode, warnings only. Rate limits stay on (their Redis round trip is
 * part of every request) but high enough that the bench's one IP and 10k users never
 * hit them.
 */
export function benchApiEnv(databaseUrl: string, prefix: string, port: number, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    THROTTLE_IP_LIMIT: '1000000000',
    THROTTLE_USER_LIMIT: '1000000000',
    ...process.env,
    DATABASE_URL: databaseUrl,
    REDIS_PREFIX: prefix,
    PORT: String(port),
    NODE_ENV: 'production',
    LOG_LEVEL: 'warn',
    ...extra,
  };
}

/**
 * Deletes a bench run's rows from `table` and vacuums it at once: left to autovacuum, the
 * dead rows of each run (hundreds of thousands of impressions) were still being cleaned
 * up during the next run, on the same two cores as the api (10.5M dead impressions had
 * piled up in the feed world once). Returns how many rows were deleted.
 */
export async function deleteAndVacuum(pool: Pool, table: 'impressions' | 'interactions', where: string, params: unknown[]): Promise<number> {
  const { rowCount } = await pool.query(`DELETE FROM ${table} WHERE ${where}`, params);
  await pool.query(`VACUUM (ANALYZE) ${table}`);
  return rowCount ?? 0;
}
