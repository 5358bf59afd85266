/**
 * Two builds of the api side by side on the feed bench's world, loaded in turn: short
 * saturated bursts (autocannon, 50 connections, GET /v1/feed) alternate between them,
 * the order flipping every pair, and each burst's api CPU per feed is read from /proc.
 * Each api runs with the node flags of its checkout's start:api.
 * On a shared machine whose load swings within minutes, bursts seconds apart see much
 * the same machine, where whole feed-bench runs minutes apart do not.
 *
 *   npm run build && node dist/bench/feed/feed-interleaved.js --a /path/to/old/checkout --b /path/to/new/checkout [--pairs 6] [--seconds 10] [--rate 200] [--node-a /path/to/node] [--node-b /path/to/node]
 *
 * With --rate, each burst sends that many feeds per second instead of as many as the api
 * answers: the CPU per feed of an api that is not saturated (requests arrive one by one,
 * so no write carries several of them), which is what a steady rate costs.
 *
 * Each checkout must be built (`npm run build`); --a and --b may be the same checkout, with
 * BENCH_A_NODE_ARGS / BENCH_B_NODE_ARGS (extra node flags) telling them apart.
 * BENCH_A_REDIS_PREFIX / BENCH_B_REDIS_PREFIX give a side its own copy of the world's Redis
 * state (made by dist/bench/feed/copy-world.js), e.g. with user states in a newer stored form. The world must exist: run
 * dist/bench/feed/feed-bench.js once first (same env: BENCH_DATABASE_URL, BENCH_REDIS_PREFIX, BENCH_USERS).
 */
import autocannon from 'autocannon';
import { ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { SignJWT } from 'jose';
import { Pool } from 'pg';
import { benchApiEnv, benchConfig, deleteAndVacuum, freePort, procCpuMs, waitForReady, withDatabase } from '../bench-env';

const { values: args } = parseArgs({
  options: {
    a: { type: 'string' },
    b: { type: 'string' },
    pairs: { type: 'string', default: '6' },
    seconds: { type: 'string', default: '10' },
    rate: { type: 'string' },
    /** The node binary each api runs on (default: the first `node` on PATH), to compare Node versions. */
    'node-a': { type: 'string', default: 'node' },
    'node-b': { type: 'string', default: 'node' },
  },
});
if (!args.a || !args.b) throw new Error('--a and --b: the two checkouts to compare');
const config = benchConfig();
const DATABASE_URL = process.env.BENCH_DATABASE_URL ?? withDatabase(config.DATABASE_URL, 'reelrank_bench_feed');
const PREFIX = process.env.BENCH_REDIS_PREFIX ?? 'rrbenchfeed';
const USERS = Number(process.env.BENCH_USERS ?? 10_000);

const log = (msg: string) => process.stdout.write(`[interleaved] ${msg}\n`);
const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)];
const load = () => loadavg().map((x) => x.toFixed(2)).join(' ');

interface Api {
  label: string;
  child: ChildProcess;
  base: string;
}

async function startApi(label: string, checkout: string): Promise<Api> {
  const port = await freePort();
  const { scripts } = JSON.parse(readFileSync(join(checkout, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
  // Each checkout's api as its own start:api runs it ("node [flags...] dist/src/main.js"), plus the extra flags.
  const startFlags = scripts['start:api'].trim().split(/\s+/).slice(1, -1);
  const nodeArgs = (process.env[`BENCH_${label.toUpperCase()}_NODE_ARGS`] ?? '').split(' ').filter(Boolean);
  const child = spawn(args[label === 'a' ? 'node-a' : 'node-b']!, [...startFlags, ...nodeArgs, join(checkout, 'dist/src/main.js')], {
    env: benchApiEnv(DATABASE_URL, process.env[`BENCH_${label.toUpperCase()}_REDIS_PREFIX`] ?? PREFIX, port),
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const base = `http://127.0.0.1:${port}`;
  await waitForReady(base);
  return { label, child, base };
}

async function burst(api: Api, tokens: string[], seconds: number, amount?: number, rate?: number): Promise<{ rps: number; cpuPerFeed: number; non2xx: number }> {
  let next = 0;
  const before = procCpuMs(api.child.pid!)!;
  const result = await autocannon({
    url: api.base,
    connections: 50,
    ...(amount ? { amount } : { duration: seconds }),
    ...(rate ? { overallRate: rate } : {}),
    requests: [{ method: 'GET', path: '/v1/feed', setupRequest: (req) => ({ ...req, headers: { ...req.headers, authorization: `Bearer ${tokens[next++ % tokens.length]}` } }) }],
  });
  return { rps: result.requests.total / result.duration, cpuPerFeed: (procCpuMs(api.child.pid!)! - before) / Math.max(1, result.requests.total), non2xx: result.non2xx };
}

async function main(): Promise<void> {
  const secret = new TextEncoder().encode(config.JWT_SECRET);
  const tokens = await Promise.all(
    Array.from({ length: USERS }, (_, i) => new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject(`u_${String(i + 1).padStart(7, '0')}`).setExpirationTime('2h').sign(secret)),
  );
  const apis: Api[] = [];
  const started = new Date();
  try {
    apis.push(await startApi('a', args.a!), await startApi('b', args.b!));
    log(`a = ${args.a} ${process.env.BENCH_A_NODE_ARGS ?? ''}, b = ${args.b} ${process.env.BENCH_B_NODE_ARGS ?? ''} (each with its start:api node flags); both warm; ${args.rate ? `${args.rate} feeds/s` : 'saturated'}; load average ${load()}`);
    for (const api of apis) await burst(api, tokens, 0, tokens.length);
    log(`warm-up done (every user once on each); load average ${load()}`);
    const perFeed: Record<string, number[]> = { a: [], b: [] };
    for (let pair = 0; pair < Number(args.pairs); pair++) {
      const order = pair % 2 === 0 ? apis : [...apis].reverse();
      for (const api of order) {
        const r = await burst(api, tokens, Number(args.seconds), undefined, args.rate ? Number(args.rate) : undefined);
        perFeed[api.label].push(r.cpuPerFeed);
        log(`pair ${pair + 1} ${api.label}: ${r.rps.toFixed(0)} feeds/s, api CPU ${r.cpuPerFeed.toFixed(3)} ms/feed, non-2xx ${r.non2xx}; load average ${load()}`);
      }
    }
    const [a, b] = [median(perFeed.a), median(perFeed.b)];
    log(`median api CPU per feed over ${args.pairs} bursts each: a ${a.toFixed(3)} ms, b ${b.toFixed(3)} ms (b/a ${(b / a).toFixed(3)})`);
    const ratios = perFeed.a.map((x, i) => perFeed.b[i] / x);
    log(`b/a within each pair: ${ratios.map((r) => r.toFixed(3)).join(' ')} (median ${median(ratios).toFixed(3)})`);
  } finally {
    for (const api of apis) {
      if (api.child.exitCode === null) {
        api.child.kill('SIGTERM');
        await new Promise((r) => api.child.once('exit', r));
      }
    }
    // As feed-bench: the run's impressions carry no engagement, so they never reach training.
    const pool = new Pool({ connectionString: DATABASE_URL, max: 1 });
    const deleted = await deleteAndVacuum(pool, 'impressions', `served_at >= $1 AND source <> 'seed'`, [started]);
    log(`impressions the apis logged (written, then deleted and vacuumed): ${deleted}`);
    await pool.end();
  }
}

main().catch((err) => {
  process.stderr.write(`interleaved feed bench failed: ${(err as Error).stack}\n`);
  process.exit(1);
});
