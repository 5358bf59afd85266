import { readFileSync } from 'node:fs';
import { AnyRedis } from '../../src/redis/redis-connection';
import { redisCpuSeconds } from '../redis-load';
import { DatabaseCpu } from '../bench-env';

/**
 * About one second of a fixed-rate run, seen from every process of the stack and from the
 * machine. CPU figures are ms used in the interval; intervals stretch when the bench itself
 * is starved of CPU, so each carries its own bounds.
 */
export interface SecondSample {
  /** Bounds of the interval, ms since the run started. */
  from: number;
  to: number;
  apiCpuMs: number;
  workerCpuMs: number;
  redisCpuMs: number;
  postgresCpuMs: number;
  benchCpuMs: number;
  /** CPU the whole machine spent (all cores), so `machine - ours` is what other work took. */
  machineBusyMs: number;
  /** Longest event-loop delay of the api in the interval (prom-client's monitorEventLoopDelay max, reset per scrape). */
  loopLagMaxMs: number;
  gcMinorMs: number;
  gcMajorMs: number;
  /** Upper bound of the longest GC pause's bucket in the interval. */
  gcLongestLeMs: number;
  /** Slowest bare PING to Redis from the bench in the interval. */
  redisPingMaxMs: number;
}

const CLOCK_TICKS = 100;

function procCpuMs(pid: number | undefined): number {
  if (!pid) return 0;
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
  } catch {
    return 0;
  }
}

function machineBusyMs(): number {
  const [, ...ticks] = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/);
  const n = ticks.map(Number);
  const total = n.slice(0, 8).reduce((a, b) => a + b, 0);
  return ((total - n[3] - n[4]) * 1000) / CLOCK_TICKS;
}

async function redisCpuMs(redis: AnyRedis): Promise<number> {
  return (await redisCpuSeconds(redis)) * 1000;
}

interface GcState {
  sum: Record<string, number>;
  buckets: Map<number, number>;
}

function gcState(text: string): GcState {
  const sum: Record<string, number> = {};
  for (const m of text.matchAll(/^reelrank_gc_pause_seconds_sum\{kind="(\w+)"\} (\S+)$/gm)) sum[m[1]] = Number(m[2]) * 1000;
  const buckets = new Map<number, number>();
  for (const m of text.matchAll(/^reelrank_gc_pause_seconds_bucket\{([^}]*)\} (\S+)$/gm)) {
    const raw = /le="([^"]+)"/.exec(m[1])![1];
    const le = raw === '+Inf' ? Infinity : Number(raw) * 1000;
    buckets.set(le, (buckets.get(le) ?? 0) + Number(m[2]));
  }
  return { sum, buckets };
}

/** Upper bound (ms) of the bucket holding the longest pause between two GC states. */
function longestPause(before: GcState, after: GcState): number {
  const les = [...after.buckets.keys()].sort((a, b) => a - b);
  let below = 0;
  let longest = 0;
  for (const le of les) {
    const cumulative = after.buckets.get(le)! - (before.buckets.get(le) ?? 0);
    if (cumulative > below) longest = le;
    below = cumulative;
  }
  return longest;
}

/**
 * Samples the stack once a second during a fixed-rate run: CPU of the api, the worker,
 * Redis, this database's Postgres backends, the bench and the whole machine; the api's
 * event-loop delay and GC time (from its /metrics); the slowest Redis PING. Lines these up
 * with the requests' latencies so each stall can be given a cause.
 */
export class StallTimeline {
  readonly samples: SecondSample[] = [];
  private sampling = false;
  private sampler: Promise<void> | null = null;
  private pinging = false;
  private pingMax = 0;
  private pinger: Promise<void> | null = null;
  /** performance.now() when sampling began: the origin of every interval. */
  started = 0;

  constructor(
    private readonly metricsUrl: string,
    private readonly pids: { api?: number; worker?: number },
    private readonly redis: AnyRedis,
    private readonly postgres: DatabaseCpu | null,
  ) {}

  async start(): Promise<void> {
    this.started = performance.now();
    this.pinging = true;
    this.pinger = (async () => {
      while (this.pinging) {
        const t = performance.now();
        await this.redis.ping();
        this.pingMax = Math.max(this.pingMax, performance.now() - t);
        await new Promise((r) => setTimeout(r, 10));
      }
    })();
    this.sampling = true;
    let last = await this.snapshot();
    // One snapshot at a time, about a second apart (a starved bench stretches the intervals).
    this.sampler = (async () => {
      while (this.sampling) {
        await new Promise((r) => setTimeout(r, Math.max(0, 1000 - (performance.now() - this.started - last.at))));
        const now = await this.snapshot();
        this.samples.push({
          from: last.at,
          to: now.at,
          apiCpuMs: now.api - last.api,
          workerCpuMs: now.worker - last.worker,
          redisCpuMs: now.redis - last.redis,
          postgresCpuMs: now.postgres && last.postgres ? DatabaseCpu.between(last.postgres, now.postgres).ms : NaN,
          benchCpuMs: now.bench - last.bench,
          machineBusyMs: now.machine - last.machine,
          loopLagMaxMs: now.loopLagMax,
          gcMinorMs: (now.gc.sum.minor ?? 0) - (last.gc.sum.minor ?? 0),
          gcMajorMs: (now.gc.sum.major ?? 0) - (last.gc.sum.major ?? 0) + (now.gc.sum.incremental ?? 0) - (last.gc.sum.incremental ?? 0),
          gcLongestLeMs: longestPause(last.gc, now.gc),
          redisPingMaxMs: this.pingMax,
        });
        this.pingMax = 0;
        last = now;
      }
    })();
  }

  async stop(): Promise<void> {
    this.sampling = false;
    this.pinging = false;
    await Promise.all([this.sampler, this.pinger]);
  }

  /** The local counters are read together at `at`; Redis, Postgres and the api's /metrics answer a little later. */
  private async snapshot() {
    const at = performance.now() - this.started;
    const u = process.cpuUsage();
    const local = { api: procCpuMs(this.pids.api), worker: procCpuMs(this.pids.worker), bench: (u.user + u.system) / 1000, machine: machineBusyMs() };
    const [text, redis, postgres] = await Promise.all([
      fetch(this.metricsUrl).then((r) => r.text()),
      redisCpuMs(this.redis),
      this.postgres ? this.postgres.sample() : Promise.resolve(null),
    ]);
    return {
      at,
      ...local,
      redis,
      postgres,
      loopLagMax: Number(/^nodejs_eventloop_lag_max_seconds (\S+)$/m.exec(text)?.[1] ?? NaN) * 1000,
      gc: gcState(text),
    };
  }
}

/**
 * A markdown table: each interval of the run, the latency of the requests due in it next to
 * what each process and the machine did (CPU in ms over the interval; `others` is the
 * machine's CPU minus this stack's). `dueAt` and `latencies` as openLoop returns them.
 */
export function timelineTable(samples: SecondSample[], dueAt: number[], latencies: number[]): string {
  const rows = [
    '| from–to s | feeds due | p50 ms | max ms | api loop lag max ms | GC minor / major ms (longest ≤) | api CPU | worker | Redis | Postgres | bench | machine | others | Redis PING max ms |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|',
  ];
  samples.forEach((x) => {
    const inside = latencies.filter((_, i) => dueAt[i] >= x.from && dueAt[i] < x.to).sort((a, b) => a - b);
    const l = inside.length ? { n: inside.length, p50: inside[Math.floor(inside.length / 2)], max: inside[inside.length - 1] } : null;
    const ours = x.apiCpuMs + x.workerCpuMs + x.redisCpuMs + (Number.isFinite(x.postgresCpuMs) ? x.postgresCpuMs : 0) + x.benchCpuMs;
    const f = (v: number) => (Number.isFinite(v) ? v.toFixed(0) : '–');
    rows.push(
      `| ${(x.from / 1000).toFixed(1)}–${(x.to / 1000).toFixed(1)} | ${l?.n ?? 0} | ${l ? l.p50.toFixed(1) : '–'} | ${l ? l.max.toFixed(1) : '–'} | ${x.loopLagMaxMs.toFixed(1)} | ` +
        `${x.gcMinorMs.toFixed(1)} / ${x.gcMajorMs.toFixed(1)} (${x.gcLongestLeMs}) | ${f(x.apiCpuMs)} | ${f(x.workerCpuMs)} | ${f(x.redisCpuMs)} | ` +
        `${f(x.postgresCpuMs)} | ${f(x.benchCpuMs)} | ${f(x.machineBusyMs)} | ${f(x.machineBusyMs - ours)} | ${x.redisPingMaxMs.toFixed(1)} |`,
    );
  });
  return rows.join('\n');
}
