import { CatalogVideo } from './catalog-video';
import { UserHistory } from './item-neighbours';
import { SequenceScores } from './sequence-scores';
import type { VideoColumns } from './video-columns';
import { decayedAt, emptyUserState, USER_TIME_CONSTANTS, UserState } from './user-state';
import { smoothedRate, VideoStats } from './video-stats';

/** What a feature may look at: the user's online state, the candidate and its online stats. */
export interface FeatureContext {
  user: UserState;
  video: CatalogVideo;
  stats: VideoStats;
  /** Epoch ms of the request (or of the impression, offline). */
  now: number;
  /** Computed once per user and request (see `userContext`). */
  userHasEmbedding: boolean;
  /** `user.embedding` as a typed array (computed once per user: read for every candidate). */
  userEmbedding: Float64Array;
  categoryAffinityTotal: number;
  follows: ReadonlySet<string>;
  /** What the user's recent videos say about candidates (null when no neighbours are loaded). */
  history: UserHistory | null;
  /** The key `history` knows a video by (catalog ordinal in serving, catalog index in training); -1 if none. */
  historyKey: (video: CatalogVideo) => number;
  /** The sequence model's scores for this user (null without a model); keyed by `historyKey`. */
  sequence: SequenceScores | null;
}

export type UserContext = Pick<
  FeatureContext,
  'user' | 'now' | 'userHasEmbedding' | 'userEmbedding' | 'categoryAffinityTotal' | 'follows' | 'history' | 'historyKey' | 'sequence'
>;

const NO_KEY = () => -1;

export function userContext(
  user: UserState,
  now: number,
  history: UserHistory | null = null,
  historyKey: (video: CatalogVideo) => number = NO_KEY,
  sequence: SequenceScores | null = null,
): UserContext {
  let total = 0;
  for (const v of user.categoryAffinity.values()) if (v > 0) total += v;
  return {
    user,
    now,
    userHasEmbedding: user.embedding.some((x) => x !== 0),
    userEmbedding: Float64Array.from(user.embedding),
    categoryAffinityTotal: total,
    follows: new Set(user.follows),
    history,
    historyKey,
    sequence,
  };
}

/**
 * One model input. To add a feature: append a definition here, retrain, and ship
 * the model with a feature spec that names it. Models whose spec does not list it
 * keep working unchanged.
 */
export interface FeatureDefinition {
  name: string;
  description: string;
  /** True when the value depends only on the user and the time, not on the video: computed once per user. */
  perUser?: boolean;
  /**
   * True when the value depends only on the video and its online stats (not on the user,
   * nor on the time): serving computes it once per video and stats snapshot and reuses it
   * across requests (see `computeVideoRow`). A feature that reads the user or `now` must
   * not set this.
   */
  perVideo?: boolean;
  /**
   * Optional fast path for serving: given one request's context (user and time), a
   * filler of this feature's column for all the candidates at once, read from their
   * slots in the dense VideoColumns instead of `compute` through `ctx.video`. Must equal
   * `compute` exactly (a test holds every feature that has one to it).
   */
  columnFill?(ctx: FeatureContext, columns: VideoColumns): ColumnFill;
  /**
   * True when the value grows with how many events arrive before they decay (a decayed
   * sum), so one dense session reaches values a history spread over days never shows:
   * a model trained on such history extrapolates on them at serving. Kept in the
   * registry (models that name them still load) but left out of DEFAULT_TRAIN_FEATURES.
   */
  sessionScaled?: boolean;
  compute(ctx: FeatureContext): number;
}

/**
 * Writes one feature for every candidate: `out[i * width + j]` for the candidate in
 * `slots[i]`. A loop per feature, over candidates picked from anywhere in the catalog:
 * its body is small, so the CPU has many of those scattered reads in flight at once,
 * where one row at a time through a reader per feature waited on them one by one.
 */
export type ColumnFill = (slots: Int32Array, out: Float32Array, width: number, j: number) => void;

/** The same value for every candidate. */
const fillConstant =
  (value: number): ColumnFill =>
  (slots, out, width, j) => {
    for (let i = 0, at = j; i < slots.length; i++, at += width) out[at] = value;
  };

/** `values[ids[slot]]` for every candidate: a value per interned category or creator, looked up by the slot's id. */
const fillByIds =
  (values: Float64Array, ids: Int32Array): ColumnFill =>
  (slots, out, width, j) => {
    for (let i = 0, at = j; i < slots.length; i++, at += width) out[at] = values[ids[slots[i]]];
  };

/** A value for the creators in `values` (interned ids), `otherwise` for the rest. */
const fillByCreator =
  (columns: VideoColumns, values: Map<number, number>, otherwise: number): ColumnFill =>
  (slots, out, width, j) => {
    const creators = columns.creators;
    for (let i = 0, at = j; i < slots.length; i++, at += width) out[at] = values.get(creators[slots[i]]) ?? otherwise;
  };

const { HOUR, DAY } = USER_TIME_CONSTANTS;
const log1p = Math.log1p;

function userRate(u: UserState, type: 'like' | 'skip' | 'complete' | 'share', prior: number): number {
  return smoothedRate(u.counts[type], u.counts.view + u.counts.skip, prior, 10);
}

function cosine(user: Float64Array, video: Float32Array | null): number {
  if (!video || video.length !== user.length) return 0;
  let s = 0;
  for (let i = 0; i < user.length; i++) s += user[i] * video[i];
  return s;
}

function categoryAffinity(c: FeatureContext, category: string): number {
  return decayedAt(c.user.categoryAffinity.get(category) ?? 0, c.user.lastEventAt, c.now, DAY);
}

function categoryShare(c: FeatureContext, category: string): number {
  return c.categoryAffinityTotal > 0 ? Math.max(0, c.user.categoryAffinity.get(category) ?? 0) / c.categoryAffinityTotal : 0;
}

function creatorAffinity(c: FeatureContext, creator: string): number {
  return decayedAt(c.user.creatorAffinity.get(creator) ?? 0, c.user.lastEventAt, c.now, DAY);
}

/** Signed log1p, for sums that can go negative (skipped history) and grow without bound. */
const slog1p = (v: number) => Math.sign(v) * Math.log1p(Math.abs(v));

/** A history signal: `compute` looks the candidate up by key; serving reads it by slot (the catalog ordinal, the key serving uses). */
function historySignal(name: string, signal: number, description: string, transform: (v: number) => number = (v) => v): FeatureDefinition {
  return {
    name,
    description,
    compute: (c) => (c.history ? transform(c.history.value(c.historyKey(c.video), signal)) : 0),
    columnFill: (c) => {
      const history = c.history;
      if (!history || history.empty) return fillConstant(transform(0));
      history.accumulate();
      return (slots, out, width, j) => {
        // One lookup of the candidates' rows per request, shared by the history signals.
        const rows = history.accumulatedRows(slots);
        for (let i = 0, at = j; i < slots.length; i++, at += width) out[at] = transform(history.accumulatedValue(rows[i], signal));
      };
    },
  };
}

/** A column fill from one value per interned category, computed once per request. */
function byCategory(columns: VideoColumns, value: (category: string) => number): ColumnFill {
  return fillByIds(columns.perCategory(value), columns.categories);
}

export const FEATURE_REGISTRY: readonly FeatureDefinition[] = [
  { name: 'user_views_log', perUser: true, description: 'log(1 + lifetime views)', compute: (c) => log1p(c.user.counts.view) },
  { name: 'user_likes_log', perUser: true, description: 'log(1 + lifetime likes)', compute: (c) => log1p(c.user.counts.like) },
  { name: 'user_like_rate', perUser: true, description: 'smoothed likes per watched video', compute: (c) => userRate(c.user, 'like', 0.1) },
  { name: 'user_skip_rate', perUser: true, description: 'smoothed skips per watched video', compute: (c) => userRate(c.user, 'skip', 0.4) },
  { name: 'user_complete_rate', perUser: true, description: 'smoothed completions per watched video', compute: (c) => userRate(c.user, 'complete', 0.3) },
  {
    name: 'user_watch_ratio',
    perUser: true,
    description: 'watched time / duration of watched videos',
    compute: (c) => (c.user.watchedDurationMs > 0 ? c.user.watchMs / c.user.watchedDurationMs : 0.5),
  },
  {
    name: 'user_activity_1h',
    perUser: true,
    description: 'log(1 + events in the last hour, decayed)',
    compute: (c) => log1p(decayedAt(c.user.recent1h.view + c.user.recent1h.skip, c.user.lastEventAt, c.now, HOUR)),
  },
  {
    name: 'user_skips_1h',
    perUser: true,
    description: 'share of skips among recent (1h) watches',
    compute: (c) => {
      const r = c.user.recent1h;
      return (r.skip + 0.5) / (r.skip + r.view + 1);
    },
  },
  {
    name: 'user_hours_since_last',
    perUser: true,
    description: 'log(1 + hours since the last event)',
    compute: (c) => (c.user.lastEventAt === 0 ? log1p(24 * 30) : log1p(Math.max(0, c.now - c.user.lastEventAt) / HOUR)),
  },
  { name: 'video_impressions_log', perVideo: true, description: 'log(1 + impressions)', compute: (c) => log1p(Math.max(0, c.stats.impressions)) },
  {
    name: 'video_like_rate',
    perVideo: true,
    description: 'smoothed likes per watch',
    compute: (c) => smoothedRate(c.stats.likes, c.stats.views + c.stats.skips, 0.1),
  },
  {
    name: 'video_complete_rate',
    perVideo: true,
    description: 'smoothed completions per watch',
    compute: (c) => smoothedRate(c.stats.completes, c.stats.views + c.stats.skips, 0.3),
  },
  {
    name: 'video_skip_rate',
    perVideo: true,
    description: 'smoothed skips per watch',
    compute: (c) => smoothedRate(c.stats.skips, c.stats.views + c.stats.skips, 0.4),
  },
  {
    name: 'video_share_rate',
    perVideo: true,
    description: 'smoothed shares per watch',
    compute: (c) => smoothedRate(c.stats.shares, c.stats.views + c.stats.skips, 0.02),
  },
  {
    name: 'video_watch_ratio',
    perVideo: true,
    description: 'mean watched share of the video',
    compute: (c) => {
      const watches = c.stats.views + c.stats.skips;
      return watches > 0 ? Math.min(3, c.stats.watchMs / watches / Math.max(1, c.video.durationMs)) : 0.5;
    },
  },
  {
    name: 'video_age_hours_log',
    description: 'log(1 + hours since upload)',
    compute: (c) => log1p(Math.max(0, c.now - c.video.createdAt) / HOUR),
    // Not perVideo: it moves with the clock, so serving computes it per request (from the columns).
    columnFill: (c, columns) => (slots, out, width, j) => {
      const createdAt = columns.createdAt;
      for (let i = 0, at = j; i < slots.length; i++, at += width) out[at] = log1p(Math.max(0, c.now - createdAt[slots[i]]) / HOUR);
    },
  },
  { name: 'video_duration_log', perVideo: true, description: 'log(1 + duration in seconds)', compute: (c) => log1p(c.video.durationMs / 1000) },
  { name: 'video_has_embedding', perVideo: true, description: '1 if the video has an embedding', compute: (c) => (c.video.embedding ? 1 : 0) },
  {
    name: 'user_video_cosine',
    description: 'cosine of user taste and video embedding (0 if either is missing)',
    compute: (c) => (c.userHasEmbedding ? cosine(c.userEmbedding, c.video.embedding) : 0),
    columnFill: (c, columns) => (c.userHasEmbedding ? (slots, out, width, j) => columns.dots(c.userEmbedding, slots, out, width, j) : fillConstant(0)),
  },
  {
    name: 'user_category_affinity',
    description: "user's decayed affinity for the video's category",
    sessionScaled: true,
    compute: (c) => categoryAffinity(c, c.video.category),
    columnFill: (c, columns) => byCategory(columns, (category) => categoryAffinity(c, category)),
  },
  {
    name: 'user_category_share',
    description: "the video's category's share of the user's positive affinity",
    compute: (c) => categoryShare(c, c.video.category),
    columnFill: (c, columns) => byCategory(columns, (category) => categoryShare(c, category)),
  },
  {
    name: 'user_creator_affinity',
    description: "user's decayed affinity for the video's creator",
    sessionScaled: true,
    compute: (c) => creatorAffinity(c, c.video.creatorId),
    columnFill: (c, columns) => {
      // Only the user's (few) creators get a value; every other creator reads as creatorAffinity of none.
      const values = new Map<number, number>();
      for (const creator of c.user.creatorAffinity.keys()) {
        const id = columns.creatorIds.get(creator);
        if (id !== undefined) values.set(id, creatorAffinity(c, creator));
      }
      return fillByCreator(columns, values, decayedAt(0, c.user.lastEventAt, c.now, DAY));
    },
  },
  historySignal('history_similarity', 0, "recency-weighted co-engagement similarity (cosine) of the candidate to the user's last videos"),
  historySignal('history_similarity_recent', 1, "co-engagement similarity (cosine) to the user's last 3 videos"),
  historySignal('history_cooccurrence_log', 2, "log of the recency-weighted co-engagement with the user's last videos, not damped by the candidate's popularity", slog1p),
  historySignal('history_next', 3, "how often the candidate was engaged with within a few steps after the user's last videos"),
  {
    name: 'history_category_share',
    description: "recency-weighted share of the user's last videos in the candidate's category",
    compute: (c) => (c.history ? c.history.categoryShare(c.video.category) : 0),
    columnFill: (c, columns) => byCategory(columns, (category) => (c.history ? c.history.categoryShare(category) : 0)),
  },
  {
    name: 'history_creator_share',
    description: "recency-weighted share of the user's last videos by the candidate's creator",
    compute: (c) => (c.history ? c.history.creatorShare(c.video.creatorId) : 0),
    columnFill: (c, columns) => {
      const history = c.history;
      if (!history || history.empty) return fillConstant(0);
      const values = new Map<number, number>();
      for (const item of history.items) {
        const id = columns.creatorIds.get(item.creatorId);
        if (id !== undefined) values.set(id, history.creatorShare(item.creatorId));
      }
      return fillByCreator(columns, values, 0);
    },
  },
  {
    name: 'sequence_score',
    description: "the sequence model's score: the user's encoded recent engagement (in order) times the candidate's learned vector; 0 without a model or history",
    compute: (c) => (c.sequence ? c.sequence.score(c.historyKey(c.video)) : 0),
    columnFill: (c) => {
      const sequence = c.sequence;
      return sequence ? (slots, out, width, j) => sequence.scores(slots, out, width, j) : fillConstant(0);
    },
  },
  {
    name: 'video_popularity_log',
    perVideo: true,
    description: 'log(1 + lifetime views, likes, completions and shares): long-horizon popularity',
    compute: (c) => log1p(Math.max(0, c.stats.views + c.stats.likes + c.stats.completes + c.stats.shares)),
  },
  {
    name: 'user_follows_creator',
    description: '1 if the user follows the creator',
    compute: (c) => (c.follows.has(c.video.creatorId) ? 1 : 0),
    columnFill: (c, columns) => {
      const followed = columns.creatorSet(c.follows);
      if (followed.size === 0) return fillConstant(0);
      return (slots, out, width, j) => {
        const creators = columns.creators;
        for (let i = 0, at = j; i < slots.length; i++, at += width) out[at] = followed.has(creators[slots[i]]) ? 1 : 0;
      };
    },
  },
];

const BY_NAME = new Map(FEATURE_REGISTRY.map((f) => [f.name, f]));

export function featureByName(name: string): FeatureDefinition | undefined {
  return BY_NAME.get(name);
}

export const DEFAULT_FEATURE_NAMES: readonly string[] = FEATURE_REGISTRY.map((f) => f.name);

/** What the trainer uses when TRAIN_FEATURES is empty: every feature except the session-scaled ones. */
export const DEFAULT_TRAIN_FEATURES: readonly string[] = FEATURE_REGISTRY.filter((f) => !f.sessionScaled).map((f) => f.name);

/** Built as buildFeatureMatrix builds its context (spread, then video and stats), for the same hidden class. */
const rowContext = { ...userContext(emptyUserState(0), 0) } as FeatureContext;
rowContext.video = null as unknown as CatalogVideo;
rowContext.stats = null as unknown as VideoStats;

/** The registry's video-only features, in registry order: the columns of a video row. */
export const VIDEO_ROW_FEATURES: readonly FeatureDefinition[] = FEATURE_REGISTRY.filter((f) => f.perVideo);
const VIDEO_ROW_SLOTS = new Map(VIDEO_ROW_FEATURES.map((f, i) => [f.name, i]));

/** Where a video-only feature sits in a video row (undefined for any other feature). */
export function videoRowSlot(name: string): number | undefined {
  return VIDEO_ROW_SLOTS.get(name);
}

/**
 * Every video-only feature of one video, in VIDEO_ROW_FEATURES order. Serving
 * keeps one per video alongside its cached stats, so a request's feature matrix copies
 * these columns instead of computing them for every candidate.
 */
export function computeVideoRow(video: CatalogVideo, stats: VideoStats, out: Float32Array = new Float32Array(VIDEO_ROW_FEATURES.length)): Float32Array {
  // The same object shape as buildFeatureMatrix's context, so the features' property
  // reads stay monomorphic; the user fields are never read by video-only features.
  const ctx = rowContext;
  ctx.video = video;
  ctx.stats = stats;
  for (let i = 0; i < VIDEO_ROW_FEATURES.length; i++) {
    const v = VIDEO_ROW_FEATURES[i].compute(ctx);
    out[i] = Number.isFinite(v) ? v : 0;
  }
  return out;
}
