import 'reflect-metadata';
import autocannon from 'autocannon';
import { benchConfig, freePort, waitForReady } from './bench-env';
import { clearPrefix, cpuSeconds, log, startProcess, stopProcess, tokens, videoIds } from './events-common';


/**
 * HTTP ingest throughput: POST /v1/events with batches, many users, against an api
 * process of its own (no worker: this measures validate -> dedupe -> enqueue -> 202).
 * A GET /health/live run first gives the same-machine baseline. Timed runs start once the
 * api is ready and warm (/health/ready: ANN index built).
 *
 *   node dist/bench/events-ingest.js   (env: BENCH_PORT (default: a free port), BENCH_BATCHES=100,500, BENCH_CONNECTIONS=32,
 *                                       BENCH_SECONDS=10, BENCH_USERS=1000; needs a seeded DATABASE_URL)
 */
async function main(): Promise<void> {
  const config = benchConfig();
  const port = Number(process.env.BENCH_PORT ?? (await freePort()));
  const prefix = `rrbench-ingest`;
  const batches = (process.env.BENCH_BATCHES ?? '100,500').split(',').map(Number);
  const connections = Number(process.env.BENCH_CONNECTIONS ?? 32);
  const seconds = Number(process.env.BENCH_SECONDS ?? 10);
  const users = Array.from({ length: Number(process.env.BENCH_USERS ?? 1000) }, (_, i) => `${prefix}-u${i}`);
  const base = `http://127.0.0.1:${port}`;

  const videos = await videoIds(config);
  const auth = await tokens(config, users);
  await clearPrefix(config, prefix);
  const api = startProcess('main', { PORT: String(port), REDIS_PREFIX: prefix, EVENTS_MAX_BATCH: String(Math.max(500, ...batches)) });
  const results: Record<string, unknown>[] = [];
  try {
    await waitForReady(base);
    const run = (opts: Partial<autocannon.Options>) => autocannon({ url: base, connections, duration: seconds, ...opts });

    await run({ url: `${base}/health/live`, duration: 2 });
    const live = await run({ url: `${base}/health/live` });
    results.push({ target: 'GET /health/live', reqPerSec: live.requests.p50, p99Ms: live.latency.p99, non2xx: live.non2xx });

    let seq = 0;
    for (const batch of batches) {
      let accepted = 0;
      let duplicates = 0;
      let failed = 0;
      const make = () => {
        const u = seq % users.length;
        const now = new Date().toISOString();
        const events = Array.from({ length: batch }, (_, i) => ({
          eventId: `e${seq}-${i}`,
          type: i % 5 === 0 ? 'like' : 'view',
          videoId: videos[(seq * 31 + i) % videos.length],
          watchMs: 4000 + (i % 7) * 1000,
          occurredAt: now,
        }));
        seq++;
        return { body: JSON.stringify({ events }), auth: auth[u] };
      };
      const requests: autocannon.Request[] = [
        {
          method: 'POST',
          path: '/v1/events',
          setupRequest: (req) => {
            const { body, auth: token } = make();
            return { ...req, body, headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` } };
          },
          onResponse: (status: number, body: string) => {
            if (status !== 202) {
              failed++;
              return;
            }
            const r = JSON.parse(body) as { accepted: number; duplicates: number };
            accepted += r.accepted;
            duplicates += r.duplicates;
          },
        },
      ];
      await run({ url: base, requests, duration: 2 });
      accepted = duplicates = failed = 0;
      const started = Date.now();
      const cpu0 = cpuSeconds(api.pid!);
      const res = await run({ url: base, requests });
      const elapsed = (Date.now() - started) / 1000;
      const apiCpu = cpuSeconds(api.pid!) - cpu0;
      results.push({
        target: `POST /v1/events x${batch}`,
        reqPerSec: res.requests.p50,
        eventsPerSecMedian: res.requests.p50 * batch,
        eventsPerSecOverall: Math.round(accepted / elapsed),
        p50Ms: res.latency.p50,
        p99Ms: res.latency.p99,
        apiCpuUsPerEvent: +((apiCpu * 1e6) / Math.max(1, accepted)).toFixed(1),
        accepted,
        duplicates,
        failed,
      });
    }
  } finally {
    await stopProcess(api);
    await clearPrefix(config, prefix);
  }
  console.table(results);
  process.stdout.write(`${JSON.stringify({ bench: 'events-ingest', connections, seconds, results, medianOf: 'per-second samples' })}\n`);
  log('done');
}

main().catch((err) => {
  log(`events-ingest failed: ${(err as Error).stack}`);
  process.exit(1);
});
