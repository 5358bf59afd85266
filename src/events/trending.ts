import { EventType, TRENDING_WEIGHTS } from './event-types';

/**
 * Decayed trending scores, kept in log space so they never overflow and so the
 * sorted sets can be updated with absolute, idempotent writes (ZADD GT):
 *
 *   score(window) = ln( sum_i w_i * exp(t_i / tau) )
 *
 * The decayed value at time `now` is exp(score - now / tau), so ordering by score is
 * ordering by "how trending right now" for every video at once. Scores only grow
 * (weights are positive), which is what makes out-of-order writes safe. The 30-day
 * window is the decayed long-horizon popularity.
 */
export const TRENDING_WINDOWS = ['1h', '24h', '30d'] as const;
export type TrendingWindow = (typeof TRENDING_WINDOWS)[number];

/** One log-space score per window, in TRENDING_WINDOWS order. */
export type TrendScores = [hour: number, day: number, month: number];

export const TRENDING_TAU_MS: Record<TrendingWindow, number> = { '1h': 3_600_000, '24h': 86_400_000, '30d': 30 * 86_400_000 };

/** Bytes of a packed trend record: one float64 per window. */
export const TREND_BYTES = TRENDING_WINDOWS.length * 8;
/** Records written before the 30-day window existed hold the 1h and 24h scores only. */
const LEGACY_TREND_BYTES = 16;

/** The log-space increments one event adds, per window (null when the event does not count). */
export function trendIncrements(type: EventType, occurredAt: number): TrendScores | null {
  const w = TRENDING_WEIGHTS[type];
  if (!(w > 0)) return null;
  const lw = Math.log(w);
  return [lw + occurredAt / TRENDING_TAU_MS['1h'], lw + occurredAt / TRENDING_TAU_MS['24h'], lw + occurredAt / TRENDING_TAU_MS['30d']];
}

/** ln(e^a + e^b), written exactly as the Lua script computes it so replay and live agree. */
export function logAddExp(a: number, b: number): number {
  if (a === -Infinity) return b;
  if (b === -Infinity) return a;
  const m = a > b ? a : b;
  const d = a > b ? b - a : a - b;
  return m + Math.log(1 + Math.exp(d));
}

/** Folds one event's increments into a video's scores (null: the video had none). */
export function addTrend(scores: TrendScores | null, inc: TrendScores): TrendScores {
  return scores ? [logAddExp(scores[0], inc[0]), logAddExp(scores[1], inc[1]), logAddExp(scores[2], inc[2])] : [inc[0], inc[1], inc[2]];
}

/** The decayed (linear) trending value of a log-space score at time `now`. */
export function decayedTrend(score: number, now: number, window: TrendingWindow): number {
  return Math.exp(score - now / TRENDING_TAU_MS[window]);
}

/** Packed float64 per window (1h, 24h, 30d) as stored at RedisKeys.videoTrend. */
export function encodeTrend(scores: TrendScores): Buffer {
  const buf = Buffer.alloc(TREND_BYTES);
  scores.forEach((s, i) => buf.writeDoubleLE(s, i * 8));
  return buf;
}

/**
 * Decodes a trend record. A 16-byte record (written before the 30-day window existed)
 * reads its 30-day score as -Infinity, ln(0): nothing counted yet, so the next event
 * starts it and a replay rebuilds it from the whole log.
 */
export function decodeTrend(buf: Buffer | null | undefined): TrendScores | null {
  if (!buf || buf.length < LEGACY_TREND_BYTES) return null;
  const month = buf.length >= TREND_BYTES ? buf.readDoubleLE(16) : -Infinity;
  return [buf.readDoubleLE(0), buf.readDoubleLE(8), month];
}
