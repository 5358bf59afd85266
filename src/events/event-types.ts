import type { VideoStats } from '../features/video-stats';

/** What one event type does to the online state, the video's counters and trending. */
export interface EventTypeDefinition {
  /** How much the action says about taste (category, creator and recent-history affinity); negative for skip or unlike. */
  tasteWeight: number;
  /** Step moving the user embedding toward (positive) or away from (negative) the video's embedding. */
  embeddingStep: number;
  /** The video counters the event moves (unlike/unfollow decrement). */
  statDelta: Partial<Omit<VideoStats, 'watchMs'>>;
  /** Whether the event's watchMs adds to the user's and the video's watch time. */
  countsWatchTime: boolean;
  /** How much the action makes a video trend; zero means it does not count. */
  trendingWeight: number;
}

/**
 * Every event type, in one place: a new type is added here (its position is its code in
 * the training logs, so append). Stored user states decode with zero counts for a type they lack.
 */
export const EVENT_TYPE_TABLE = {
  impression: { tasteWeight: 0, embeddingStep: 0, statDelta: { impressions: 1 }, countsWatchTime: false, trendingWeight: 0 },
  view: { tasteWeight: 0.5, embeddingStep: 0.05, statDelta: { views: 1 }, countsWatchTime: true, trendingWeight: 1 },
  like: { tasteWeight: 3, embeddingStep: 0.3, statDelta: { likes: 1 }, countsWatchTime: false, trendingWeight: 3 },
  unlike: { tasteWeight: -3, embeddingStep: -0.2, statDelta: { likes: -1 }, countsWatchTime: false, trendingWeight: 0 },
  share: { tasteWeight: 4, embeddingStep: 0.35, statDelta: { shares: 1 }, countsWatchTime: false, trendingWeight: 5 },
  comment: { tasteWeight: 2, embeddingStep: 0.15, statDelta: { comments: 1 }, countsWatchTime: false, trendingWeight: 3 },
  skip: { tasteWeight: -1, embeddingStep: -0.1, statDelta: { skips: 1 }, countsWatchTime: true, trendingWeight: 0 },
  complete: { tasteWeight: 2, embeddingStep: 0.2, statDelta: { completes: 1 }, countsWatchTime: false, trendingWeight: 2 },
  follow: { tasteWeight: 3, embeddingStep: 0.2, statDelta: { follows: 1 }, countsWatchTime: false, trendingWeight: 3 },
  unfollow: { tasteWeight: -3, embeddingStep: 0, statDelta: { follows: -1 }, countsWatchTime: false, trendingWeight: 0 },
} as const satisfies Record<string, EventTypeDefinition>;

export type EventType = keyof typeof EVENT_TYPE_TABLE;
export const EVENT_TYPES = Object.keys(EVENT_TYPE_TABLE) as readonly EventType[];

function column<T>(pick: (d: EventTypeDefinition) => T): Record<EventType, T> {
  const out = {} as Record<EventType, T>;
  for (const t of EVENT_TYPES) out[t] = pick(EVENT_TYPE_TABLE[t]);
  return out;
}

/** Per-type lookups of the table's columns, for hot paths. */
export const EVENT_WEIGHTS = column((d) => d.tasteWeight);
export const EMBEDDING_STEP = column((d) => d.embeddingStep);
export const VIDEO_STAT_DELTAS = column((d) => d.statDelta);
export const COUNTS_WATCH_TIME = column((d) => d.countsWatchTime);
export const TRENDING_WEIGHTS = column((d) => d.trendingWeight);
