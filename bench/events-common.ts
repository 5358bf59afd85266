import { ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { SignJWT } from 'jose';
import { Pool } from 'pg';
import { AppConfig } from '../src/config/app-config';
import { QueuedEvent } from '../src/events/event-jobs';
import { EventQueuesRepository } from '../src/events/event-queues.repository';
import { createRedisClient } from '../src/redis/redis-connection';
import { apiNodeArgs, deleteAndVacuum } from './bench-env';
import { unlinkMatching } from './redis-load';

/** Helpers shared by the event pipeline benchmarks (bench/events-*.ts). */

export const ROOT = path.resolve(__dirname, '../..');

export function log(msg: string): void {
  process.stderr.write(`${msg}\n`);
}

/** Starts `node dist/src/<entry>.js` (the api with start:api's node flags) with extra env; output goes to the bench's stderr when BENCH_VERBOSE is set. */
export function startProcess(entry: 'main' | 'worker', env: NodeJS.ProcessEnv): ChildProcess {
  const child = spawn(process.execPath, [...(entry === 'main' ? apiNodeArgs() : []), path.join(ROOT, 'dist/src', `${entry}.js`)], {
    cwd: ROOT,
    // Rate limits stay on (their Redis round trip is part of every request) but high
    // enough that the bench's single IP never hits them.
    env: { THROTTLE_IP_LIMIT: '1000000000', THROTTLE_USER_LIMIT: '1000000000', ...process.env, LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', process.env.BENCH_VERBOSE ? 'inherit' : 'ignore', 'inherit'],
  });
  child.on('exit', (code, signal) => {
    if (code !== 0 && signal !== 'SIGTERM' && signal !== 'SIGKILL' && code !== null) log(`${entry} exited with ${code}`);
  });
  return child;
}

export async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
}

/** CPU seconds (user + system) a process has used so far, from /proc (Linux). */
export function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

export async function waitForHttp(url: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) throw new Error(`${url} did not answer within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

export async function tokens(config: AppConfig, userIds: string[]): Promise<string[]> {
  const key = new TextEncoder().encode(config.JWT_SECRET);
  return Promise.all(
    userIds.map((sub) => new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject(sub).setIssuedAt().setExpirationTime('2h').sign(key)),
  );
}

/** Ids of active videos in the configured database (the benchmark needs a seeded catalog). */
export async function videoIds(config: AppConfig, limit = 5000): Promise<string[]> {
  const pool = new Pool({ connectionString: config.DATABASE_URL, max: 1 });
  try {
    const { rows } = await pool.query(`SELECT id FROM videos WHERE status = 'active' ORDER BY id LIMIT $1`, [limit]);
    if (rows.length === 0) throw new Error(`no videos in ${config.DATABASE_URL}: run npm run seed first`);
    return rows.map((r: { id: string }) => r.id);
  } finally {
    await pool.end();
  }
}

/** Deletes every key of a benchmark's Redis prefix (its own, never another run's), on every master of a cluster. */
export async function clearPrefix(config: AppConfig, prefix: string): Promise<void> {
  if (!prefix.startsWith('rrbench')) throw new Error(`refusing to clear prefix ${prefix}`);
  const redis = createRedisClient(config);
  try {
    await unlinkMatching(redis, [`${prefix}:*`, `{${prefix}:bull}:*`, `{${prefix}:bull:events:*`]);
  } finally {
    redis.disconnect();
  }
}

/** Rows in the interactions log of a benchmark's users whose event id starts with `idPrefix`, and distinct (user, event) pairs. */
export async function countLogged(config: AppConfig, prefix: string, idPrefix: string): Promise<{ rows: number; distinct: number }> {
  const pool = new Pool({ connectionString: config.DATABASE_URL, max: 1 });
  try {
    const { rows } = await pool.query(
      `SELECT count(*)::int AS rows, count(DISTINCT (user_id, event_id))::int AS distinct FROM interactions WHERE user_id LIKE $1 AND event_id LIKE $2`,
      [`${prefix}-%`, `${idPrefix}%`],
    );
    return { rows: rows[0].rows, distinct: rows[0].distinct };
  } finally {
    await pool.end();
  }
}

/** Deletes the interactions a benchmark wrote (its users are named `<prefix>-...`). */
export async function deleteBenchInteractions(config: AppConfig, prefix: string): Promise<number> {
  const pool = new Pool({ connectionString: config.DATABASE_URL, max: 1 });
  try {
    return await deleteAndVacuum(pool, 'interactions', 'user_id LIKE $1', [`${prefix}-%`]);
  } finally {
    await pool.end();
  }
}

/** Parsed cumulative histogram buckets of one Prometheus metric (le -> count). */
export function histogram(text: string, name: string): { le: number; count: number }[] {
  const out: { le: number; count: number }[] = [];
  const re = new RegExp(`^${name}_bucket\\{le="([^"]+)"\\} (\\d+)`, 'gm');
  for (let m = re.exec(text); m; m = re.exec(text)) out.push({ le: m[1] === '+Inf' ? Infinity : Number(m[1]), count: Number(m[2]) });
  return out;
}

/** The buckets of `after` less those of `before` (two scrapes of one histogram): what was observed between them. */
export function bucketsBetween(before: { le: number; count: number }[], after: { le: number; count: number }[]): { le: number; count: number }[] {
  return after.map((b, i) => ({ le: b.le, count: b.count - (before[i]?.count ?? 0) }));
}

/** Quantile from cumulative buckets (linear within a bucket, as Prometheus' histogram_quantile does). */
export function bucketQuantile(buckets: { le: number; count: number }[], q: number): number {
  const total = buckets[buckets.length - 1]?.count ?? 0;
  if (total === 0) return NaN;
  const rank = q * total;
  let prevLe = 0;
  let prevCount = 0;
  for (const b of buckets) {
    if (b.count >= rank) {
      if (b.le === Infinity) return prevLe;
      return prevLe + ((b.le - prevLe) * (rank - prevCount)) / Math.max(1, b.count - prevCount);
    }
    prevLe = b.le;
    prevCount = b.count;
  }
  return prevLe;
}

/**
 * Queues a synthetic backlog of about `total` events spread over `users` (50 users' jobs
 * in flight at a time), timestamped from `at`. Returns how many events were queued.
 */
export async function queueBacklog(queues: EventQueuesRepository, users: string[], videos: string[], total: number, at: number): Promise<number> {
  const perUser = Math.ceil(total / users.length);
  let seq = 0;
  for (let u = 0; u < users.length; u += 50) {
    await Promise.all(
      users.slice(u, u + 50).map((user) => {
        const events: QueuedEvent[] = Array.from({ length: perUser }, (_, i) => {
          const s = seq++;
          return {
            eventId: `e${s}`,
            videoId: videos[(s * 7919) % videos.length],
            type: i % 4 === 0 ? 'like' : i % 3 === 0 ? 'skip' : 'view',
            watchMs: 3000 + (s % 20) * 500,
            requestId: null,
            occurredAt: at + i,
            receivedAt: at,
          };
        });
        return queues.enqueueApply(user, events);
      }),
    );
  }
  return seq;
}
