import { EventType, TRENDING_WEIGHTS } from './event-types';

/**
 * Decayed trending scores, kept in log space so they never overflow and so the
 * sorted sets can be updated with absolute, idempotent writes (ZADD GT):
 *
 *   score(window) = ln( sum_i w_i * exp(t_i / tau) )
 *
 * The decayed value at time `now` is exp(score - now / tau), so ordering by score is
 * ordering by "how trending right now" for every video at once. Scores only grow
 * (weights are positive), which is what makes out-of-order writes safe.
 */
export const TRENDING_WINDOWS = ['1h', '24h'] as const;
export type TrendingWindow = (typeof TRENDING_WINDOWS)[number];

export const TRENDING_TAU_MS: Record<TrendingWindow, number> = { '1h': 3_600_000, '24h': 86_400_000 };

/** The log-space increments one event adds, per window (null when the event does not count). */
export function trendIncrements(type: EventType, occurredAt: number): [number, number] | null {
  const w = TRENDING_WEIGHTS[type];
  if (!(w > 0)) return null;
  const lw = Math.log(w);
  return [lw + occurredAt / TRENDING_TAU_MS['1h'], lw + occurredAt / TRENDING_TAU_MS['24h']];
}

/** ln(e^a + e^b), written exactly as the Lua script computes it so replay and live agree. */
export function logAddExp(a: number, b: number): number {
  if (a === -Infinity) return b;
  if (b === -Infinity) return a;
  const m = a > b ? a : b;
  const d = a > b ? b - a : a - b;
  return m + Math.log(1 + Math.exp(d));
}

/** The decayed (linear) trending value of a log-space score at time `now`. */
export function decayedTrend(score: number, now: number, window: TrendingWindow): number {
  return Math.exp(score - now / TRENDING_TAU_MS[window]);
}

/** Packed pair of float64 (1h, 24h) as stored at RedisKeys.videoTrend. */
export function encodeTrend(scores: [number, number]): Buffer {
  const buf = Buffer.alloc(16);
  buf.writeDoubleLE(scores[0], 0);
  buf.writeDoubleLE(scores[1], 8);
  return buf;
}

export function decodeTrend(buf: Buffer | null | undefined): [number, number] | null {
  if (!buf || buf.length < 16) return null;
  return [buf.readDoubleLE(0), buf.readDoubleLE(8)];
}
