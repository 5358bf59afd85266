import { COUNTS_WATCH_TIME, EventType, VIDEO_STAT_DELTAS } from '../events/event-types';

/**
 * Online counters of one video, stored in Redis as a packed little-endian float64
 * blob so the feed can fetch hundreds with one MGET (see DESIGN.md). The field order
 * is the wire format: append new fields at the end, never reorder.
 */
export const VIDEO_STAT_FIELDS = [
  'impressions',
  'views',
  'likes',
  'shares',
  'comments',
  'completes',
  'skips',
  'watchMs',
  'follows',
] as const;
export type VideoStatField = (typeof VIDEO_STAT_FIELDS)[number];
export type VideoStats = Record<VideoStatField, number>;

export const VIDEO_STATS_BYTES = VIDEO_STAT_FIELDS.length * 8;

/*
 * Stats objects are built as literals with every field, in wire order: the feed decodes
 * hundreds per request and reads them in every feature, so they must have one fast
 * shape (Object.fromEntries would give slow dictionary-mode objects).
 */
export function emptyVideoStats(): VideoStats {
  return { impressions: 0, views: 0, likes: 0, shares: 0, comments: 0, completes: 0, skips: 0, watchMs: 0, follows: 0 };
}

/** The delta vector (in wire order) one event adds to its video's stats. */
export function videoStatDelta(type: EventType, watchMs: number | null): number[] {
  const delta: Partial<VideoStats> = VIDEO_STAT_DELTAS[type];
  return VIDEO_STAT_FIELDS.map((f) => (f === 'watchMs' ? (COUNTS_WATCH_TIME[type] ? (watchMs ?? 0) : 0) : (delta[f] ?? 0)));
}

export function applyVideoStatDelta(stats: VideoStats, delta: number[]): VideoStats {
  VIDEO_STAT_FIELDS.forEach((f, i) => (stats[f] += delta[i]));
  return stats;
}

export function encodeVideoStats(stats: VideoStats): Buffer {
  const buf = Buffer.alloc(VIDEO_STATS_BYTES);
  VIDEO_STAT_FIELDS.forEach((f, i) => buf.writeDoubleLE(stats[f], i * 8));
  return buf;
}

/** Decodes a blob; shorter blobs (written before a field was added) read missing fields as 0. */
export function decodeVideoStats(buf: Buffer | null | undefined): VideoStats {
  if (buf && buf.length >= VIDEO_STATS_BYTES) {
    return {
      impressions: buf.readDoubleLE(0),
      views: buf.readDoubleLE(8),
      likes: buf.readDoubleLE(16),
      shares: buf.readDoubleLE(24),
      comments: buf.readDoubleLE(32),
      completes: buf.readDoubleLE(40),
      skips: buf.readDoubleLE(48),
      watchMs: buf.readDoubleLE(56),
      follows: buf.readDoubleLE(64),
    };
  }
  const stats = emptyVideoStats();
  if (!buf) return stats;
  VIDEO_STAT_FIELDS.forEach((f, i) => {
    if ((i + 1) * 8 <= buf.length) stats[f] = buf.readDoubleLE(i * 8);
  });
  return stats;
}

/**
 * Decodes a blob (as decodeVideoStats) into `out[at]..out[at + VIDEO_STAT_FIELDS.length - 1]`;
 * null (no stats yet) and missing trailing fields read as 0.
 */
export function decodeVideoStatsInto(buf: Buffer | null, out: Float64Array, at: number): void {
  const known = buf ? Math.min(VIDEO_STAT_FIELDS.length, Math.floor(buf.length / 8)) : 0;
  for (let i = 0; i < known; i++) out[at + i] = buf!.readDoubleLE(i * 8);
  out.fill(0, at + known, at + VIDEO_STAT_FIELDS.length);
}

/** Beta-smoothed rate: behaves for videos with few impressions. */
export function smoothedRate(hits: number, trials: number, prior: number, strength = 20): number {
  return (hits + prior * strength) / (Math.max(0, trials) + strength);
}
