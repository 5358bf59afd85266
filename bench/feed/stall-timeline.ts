import { readFileSync } from 'node:fs';
import { Redis } from 'ioredis';
import { DatabaseCpu } from '../bench-env';

/** One second of a fixed-rate run, seen from every process of the stack and from the machine. */
export interface SecondSample {
  /** Seconds since the run started (end of the interval). */
  t: number;
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

async function redisCpuMs(redis: Redis): Promise<number> {
  const info = await redis.info('cpu');
  const field = (name: string) => Number(new RegExp(`^${name}:(\\S+)`, 'm').exec(info)?.[1] ?? 0);
  return (field('used_cpu_user') + field('used_cpu_sys')) * 1000;
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
  private timer: NodeJS.Timeout | null = null;
  private pinging = false;
  private pingMax = 0;
  private pinger: Promise<void> | null = null;
  private started = 0;

  constructor(
    private readonly metricsUrl: string,
    private readonly pids: { api?: number; worker?: number },
    private readonly redis: Redis,
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
    let last = await this.snapshot();
    this.timer = setInterval(() => {
      void this.snapshot().then((now) => {
        this.samples.push({
          t: Math.round((performance.now() - this.started) / 100) / 10,
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
      });
    }, 1000);
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.pinging = false;
    await this.pinger;
  }

  private async snapshot() {
    const text = await (await fetch(this.metricsUrl)).text();
    const u = process.cpuUsage();
    return {
      api: procCpuMs(this.pids.api),
      worker: procCpuMs(this.pids.worker),
      redis: await redisCpuMs(this.redis),
      postgres: this.postgres ? await this.postgres.sample() : null,
      bench: (u.user + u.system) / 1000,
      machine: machineBusyMs(),
      loopLagMax: Number(/^nodejs_eventloop_lag_max_seconds (\S+)$/m.exec(text)?.[1] ?? NaN) * 1000,
      gc: gcState(text),
    };
  }
}

/** Per second of the run (by when requests were due): count, p50, max latency. */
export function latencyBySecond(dueAt: number[], latencies: number[]): Map<number, { n: number; p50: number; max: number }> {
  const groups = new Map<number, number[]>();
  dueAt.forEach((due, i) => {
    const s = Math.floor(due / 1000);
    let g = groups.get(s);
    if (!g) groups.set(s, (g = []));
    g.push(latencies[i]);
  });
  const out = new Map<number, { n: number; p50: number; max: number }>();
  for (const [s, g] of groups) {
    g.sort((a, b) => a - b);
    out.set(s, { n: g.length, p50: g[Math.floor(g.length / 2)], max: g[g.length - 1] });
  }
  return out;
}

/** A markdown table: every second of the run, latency next to what each process and the machine did. */
export function timelineTable(samples: SecondSample[], bySecond: Map<number, { n: number; p50: number; max: number }>): string {
  const rows = [
    '| s | feeds | p50 ms | max ms | api loop lag max ms | GC minor / major ms (longest ≤) | api CPU | worker | Redis | Postgres | bench | machine | others | Redis PING max ms |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|',
  ];
  samples.forEach((x, i) => {
    const l = bySecond.get(i);
    const ours = x.apiCpuMs + x.workerCpuMs + x.redisCpuMs + (Number.isFinite(x.postgresCpuMs) ? x.postgresCpuMs : 0) + x.benchCpuMs;
    const f = (v: number) => (Number.isFinite(v) ? v.toFixed(0) : '–');
    rows.push(
      `| ${i + 1} | ${l?.n ?? 0} | ${l ? l.p50.toFixed(1) : '–'} | ${l ? l.max.toFixed(1) : '–'} | ${x.loopLagMaxMs.toFixed(1)} | ` +
        `${x.gcMinorMs.toFixed(1)} / ${x.gcMajorMs.toFixed(1)} (${x.gcLongestLeMs}) | ${f(x.apiCpuMs)} | ${f(x.workerCpuMs)} | ${f(x.redisCpuMs)} | ` +
        `${f(x.postgresCpuMs)} | ${f(x.benchCpuMs)} | ${f(x.machineBusyMs)} | ${f(x.machineBusyMs - ours)} | ${x.redisPingMaxMs.toFixed(1)} |`,
    );
  });
  return rows.join('\n');
}
