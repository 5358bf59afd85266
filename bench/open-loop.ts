import { Agent, request } from 'node:http';

export interface OpenLoopRequest {
  method: 'GET' | 'POST';
  path: string;
  headers: Record<string, string>;
  body?: string;
}

export interface OpenLoopResult {
  sent: number;
  /** Milliseconds from when each request was due to its last response byte, in completion order. */
  latencies: number[];
  /** When each of those requests was due, ms after the first one (same order as `latencies`). */
  dueAt: number[];
  non2xx: number;
}

/**
 * Sends requests at a fixed rate, open loop: request i leaves at t0 + i / rate whatever
 * happened to the ones before, and its latency counts from when it was due, so a stall
 * shows in every request queued behind it (no coordinated omission). autocannon's
 * `overallRate` is not this: it fires each second's quota in a burst at the start of the
 * second. Resolves when every request has been answered.
 */
export async function openLoop(port: number, perSecond: number, seconds: number, make: (i: number) => OpenLoopRequest): Promise<OpenLoopResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: 256 });
  const total = Math.max(1, Math.round(perSecond * seconds));
  const latencies: number[] = [];
  const dueAt: number[] = [];
  let non2xx = 0;
  const inFlight: Promise<void>[] = [];
  const t0 = performance.now();
  for (let i = 0; i < total; i++) {
    const due = t0 + (i * 1000) / perSecond;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    const { method, path, headers, body } = make(i);
    inFlight.push(
      new Promise<void>((resolve, reject) => {
        const req = request({ agent, host: '127.0.0.1', port, method, path, headers }, (res) => {
          res.resume();
          res.on('end', () => {
            latencies.push(performance.now() - due);
            dueAt.push(due - t0);
            if (res.statusCode! < 200 || res.statusCode! >= 300) non2xx++;
            resolve();
          });
        });
        req.on('error', reject);
        req.end(body);
      }),
    );
  }
  await Promise.all(inFlight);
  agent.destroy();
  return { sent: total, latencies, dueAt, non2xx };
}

/** The q-quantile (0..1) of some milliseconds, to 0.1 ms. */
export function quantileMs(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return +(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN).toFixed(1);
}
