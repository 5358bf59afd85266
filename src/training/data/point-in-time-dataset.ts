import { EVENT_TYPES, EVENT_WEIGHTS } from '../../events/event-types';
import { CatalogVideo } from '../../features/catalog-video';
import { FeatureDefinition, UserContext, userContext } from '../../features/feature-registry';
import { buildFeatureMatrix } from '../../features/feature-spec';
import { initialUserState } from '../../events/follows.repository';
import { historyItems, ItemNeighbours, UserHistory } from '../../features/item-neighbours';
import { SequenceScores } from '../../features/sequence-scores';
import { applyUserEvent, FeatureEvent, UserState } from '../../features/user-state';
import { applyVideoStatDelta, emptyVideoStats, videoStatDelta, VideoStats } from '../../features/video-stats';
import { createRng } from '../model/mlp';
import { EventLoopYielder } from '../../common/event-loop-yielder';
import { ROW_KIND } from './interaction-rows';
import { NO_REQUEST, TrainingLog, UNKNOWN_VIDEO } from './training-log';

/** The objectives the ranker learns, one output column each, in this order. */
export const LABEL_HEADS = ['like', 'complete', 'share', 'skip', 'engage'] as const;
export type LabelHead = (typeof LABEL_HEADS)[number];
const HEAD_COUNT = LABEL_HEADS.length;
const [LIKE, COMPLETE, SHARE, SKIP, ENGAGE] = [0, 1, 2, 3, 4];

/** A list of model inputs to compute; `loggedUnder` names the model versions whose logged vectors have exactly these columns. */
export interface FeatureSet {
  names: string[];
  defs: FeatureDefinition[];
  loggedUnder: Set<string>;
}

export interface DatasetOptions {
  /** [0] is what the new model trains on; the others (e.g. the active model's spec) are computed for held-out rows and queries only. */
  featureSets: FeatureSet[];
  /** Impressions served at or after this time (epoch ms) are held out for evaluation. */
  heldOutFrom: number;
  /** Engagement up to this long after an impression is its outcome. */
  labelWindowMs: number;
  embeddingDim: number;
  /** At most this many users get a ranking query; 0 disables ranking evaluation. */
  rankingUsers: number;
  /**
   * Videos ranked alongside each query user's own held-out impressions: drawn from what
   * was served to other users in the held-out period (so, like real feed candidates,
   * they skew popular, and a model cannot win just by telling served from never-served).
   */
  rankingNegatives: number;
  seed: number;
  /**
   * Item embeddings refreshed over time, oldest first: from `at` on, every video in
   * `learned` takes that vector and every other video without a content embedding
   * (`catalog.content`) has none, the way each retrain's written vectors reach
   * serving. Before the first one the catalog's embeddings are used as they are.
   */
  embeddingRefreshes?: readonly { at: number; learned: ReadonlyMap<number, Float32Array> }[];
  /** Item neighbours as serving would have had them: from `at` on (oldest first); none before the first. */
  neighbourRefreshes?: readonly { at: number; index: ItemNeighbours }[];
  /** The sequence model's scores for a user's state at a moment, from a model fitted before it; none without. */
  sequenceScores?: (state: UserState, at: number) => SequenceScores | null;
  /** Per impression row, its ROW_KIND (default: all logged impressions). Sampled rows count as exposed. */
  kinds?: Uint8Array;
  yielder?: EventLoopYielder;
}

/**
 * One user's held-out ranking problem, snapshotted at their first held-out impression:
 * the videos they were then served (relevant if they liked, completed or shared them)
 * plus videos served to others in the same period, with features as of that moment.
 */
export interface RankingQuery {
  user: number;
  at: number;
  videos: Int32Array;
  relevant: Uint8Array;
  /** Per feature set: candidates x width, row-major. */
  x: Float32Array[];
  /** Engagements (views, likes, completes and shares) each candidate had before `at`. */
  popularity: Float64Array;
}

export interface Dataset {
  heads: readonly LabelHead[];
  featureNames: string[];
  /** Exposed impressions in time order; the first `trainRows` are for training, the rest held out. */
  rows: number;
  trainRows: number;
  x: Float32Array;
  y: Float32Array;
  at: Float64Array;
  user: Int32Array;
  video: Int32Array;
  /** Per feature set (index 0 is a view of `x`): held-out rows x width. */
  heldOutX: Float32Array[];
  queries: RankingQuery[];
  stats: { events: number; impressions: number; exposed: number; unexposed: number; loggedFeatureRows: number };
}

const POSITIVE_HEADS = (1 << LIKE) | (1 << COMPLETE) | (1 << SHARE);
const TYPE = Object.fromEntries(EVENT_TYPES.map((t, i) => [t, i])) as Record<(typeof EVENT_TYPES)[number], number>;
/** Event types that mean the user engaged (the `engage` head): every type with a positive taste weight. */
const ENGAGING = Uint8Array.from(EVENT_TYPES, (t) => (EVENT_WEIGHTS[t] > 0 ? 1 : 0));

/**
 * Builds training rows with point-in-time features: walks the interaction log in time
 * order applying the same `applyUserEvent` / `videoStatDelta` as the live pipeline, and
 * computes each impression's features from the state as of its `served_at` (events
 * strictly before it), every user starting from the follows table like the live path. Its labels come from the same user's events on the same video
 * within the label window, preferring the impression whose request id they carry.
 * Impressions nobody reacted to at all (never shown on screen) are dropped.
 */
export async function buildPointInTimeDataset(log: TrainingLog, opts: DatasetOptions): Promise<Dataset> {
  const { catalog, events, impressions: imp } = log;
  const yielder = opts.yielder ?? new EventLoopYielder();
  const n = imp.length;
  const nVideos = catalog.videos.length;
  const sets = opts.featureSets;
  const widths = sets.map((s) => s.defs.length);
  let firstHeld = 0;
  while (firstHeld < n && imp.at[firstHeld] < opts.heldOutFrom) firstHeld++;
  const nHeld = n - firstHeld;

  const x = new Float32Array(n * widths[0]);
  const heldX = sets.map((_, k) => (k === 0 ? new Float32Array(0) : new Float32Array(nHeld * widths[k])));
  const labels = new Uint8Array(n);
  const exposed = new Uint8Array(n);
  const kinds = opts.kinds ?? new Uint8Array(n);
  for (let r = 0; r < n; r++) if (kinds[r] === ROW_KIND.sampled) exposed[r] = 1;
  const userStates: (UserState | undefined)[] = new Array(log.users.size);
  const videoStats: (VideoStats | undefined)[] = new Array(nVideos);
  const contexts: (UserContext | undefined)[] = new Array(log.users.size);
  const noStats = emptyVideoStats();
  const sameKeyBefore = new Int32Array(n).fill(-1);
  const latestByKey = new Map<number, number>();
  let loggedFeatureRows = 0;

  const plans = planQueries(log, firstHeld, opts);
  const queries: (RankingQuery & { candidatesFromLog: number })[] = [];

  const startState = (u: number) => initialUserState(opts.embeddingDim, log.follows.get(log.users.values[u]) ?? []);
  const neighbourRefreshes = opts.neighbourRefreshes ?? [];
  let neighbourAt = -1;
  const neighboursAt = (at: number): ItemNeighbours | null => {
    while (neighbourAt + 1 < neighbourRefreshes.length && neighbourRefreshes[neighbourAt + 1].at <= at) neighbourAt++;
    return neighbourAt >= 0 ? neighbourRefreshes[neighbourAt].index : null;
  };
  const historyLookup = (id: string) => {
    const key = catalog.index.get(id);
    if (key === undefined) return null;
    const video = catalog.videos[key];
    return { key, category: video.category, creatorId: video.creatorId };
  };
  const historyKey = (video: CatalogVideo) => catalog.index.get(video.id) ?? -1;
  const contextFor = (state: UserState, at: number): UserContext => {
    const index = neighboursAt(at);
    const history = index && state.recent.length > 0 ? new UserHistory(index, historyItems(state.recent, historyLookup)) : null;
    return userContext(state, at, history, historyKey, opts.sequenceScores?.(state, at) ?? null);
  };
  const contextIndex: (ItemNeighbours | null)[] = new Array(log.users.size).fill(null);
  const refreshes = opts.embeddingRefreshes ?? [];
  let nextRefresh = 0;
  const refreshEmbeddingsUpTo = (at: number): void => {
    while (nextRefresh < refreshes.length && refreshes[nextRefresh].at <= at) {
      const { learned } = refreshes[nextRefresh++];
      for (let v = 0; v < nVideos; v++) {
        const vec = learned.get(v);
        if (vec || !catalog.content[v]) catalog.videos[v].embedding = vec ?? null;
      }
    }
  };
  const event: FeatureEvent = { eventId: '', userId: '', videoId: '', type: 'view', watchMs: null, occurredAt: 0 };
  let e = 0;
  const applyEvent = (i: number): void => {
    const at = events.at[i];
    refreshEmbeddingsUpTo(at);
    const u = events.user[i];
    const v = events.video[i];
    const type = EVENT_TYPES[events.type[i]];
    const watch = events.watchMs[i];
    event.type = type;
    event.watchMs = watch < 0 ? null : watch;
    event.occurredAt = at;
    const state = (userStates[u] ??= startState(u));
    applyUserEvent(state, event, v === UNKNOWN_VIDEO ? null : catalog.videos[v]);
    contexts[u] = undefined;
    if (v === UNKNOWN_VIDEO) return;
    applyVideoStatDelta((videoStats[v] ??= emptyVideoStats()), videoStatDelta(type, event.watchMs));

    // Outcome of the impression this event answers, if any.
    let row = latestByKey.get(u * nVideos + v) ?? -1;
    let chosen = -1;
    const req = events.request[i];
    while (row >= 0 && at - imp.at[row] <= opts.labelWindowMs) {
      if (chosen < 0) chosen = row;
      if (req !== NO_REQUEST && imp.request[row] === req) {
        chosen = row;
        break;
      }
      row = sameKeyBefore[row];
    }
    if (chosen < 0) return;
    exposed[chosen] = 1;
    const t = events.type[i];
    if (t === TYPE.like) labels[chosen] |= 1 << LIKE;
    else if (t === TYPE.unlike) labels[chosen] &= ~(1 << LIKE);
    else if (t === TYPE.complete) labels[chosen] |= 1 << COMPLETE;
    else if (t === TYPE.share) labels[chosen] |= 1 << SHARE;
    else if (t === TYPE.skip) labels[chosen] |= 1 << SKIP;
    if (ENGAGING[t]) labels[chosen] |= 1 << ENGAGE;
  };

  const one: CatalogVideo[] = [catalog.videos[0]];
  const oneStats: VideoStats[] = [noStats];
  let lastSweep = -Infinity;
  for (let r = 0; r < n; r++) {
    const t = imp.at[r];
    while (e < events.length && events.at[e] < t) {
      applyEvent(e++);
      if (yielder.due()) await yielder.pause();
    }
    refreshEmbeddingsUpTo(t);
    const u = imp.user[r];
    const v = imp.video[r];
    // A user's context (follow set, affinity total) only changes when one of their events is applied.
    // ... or when the item neighbours in effect change.
    let ctx = contexts[u];
    if (ctx && contextIndex[u] === neighboursAt(t)) ctx.now = t;
    else {
      ctx = contexts[u] = contextFor((userStates[u] ??= startState(u)), t);
      contextIndex[u] = ctx.history?.index ?? neighboursAt(t);
    }

    const plan = r >= firstHeld ? plans.get(u) : undefined;
    if (plan && !plan.done) {
      plan.done = true;
      queries.push(snapshotQuery(u, t, plan.videos, plan.negatives(t), ctx, sets, catalog.videos, videoStats, noStats));
    }

    one[0] = catalog.videos[v];
    oneStats[0] = videoStats[v] ?? noStats;
    const logged = imp.logged.get(r);
    for (let k = 0; k < sets.length; k++) {
      if (k > 0 && r < firstHeld) continue;
      const out = k === 0 ? x.subarray(r * widths[0], (r + 1) * widths[0]) : heldX[k].subarray((r - firstHeld) * widths[k], (r - firstHeld + 1) * widths[k]);
      if (logged && sets[k].loggedUnder.has(logged.modelVersion) && logged.features.length === widths[k]) {
        out.set(logged.features);
        if (k === 0) loggedFeatureRows++;
      } else {
        buildFeatureMatrix(sets[k].defs, ctx, one, oneStats, out);
      }
    }

    const key = u * nVideos + v;
    sameKeyBefore[r] = latestByKey.get(key) ?? -1;
    latestByKey.set(key, r);
    if (t - lastSweep > opts.labelWindowMs) {
      for (const [k, row] of latestByKey) if (t - imp.at[row] > opts.labelWindowMs) latestByKey.delete(k);
      lastSweep = t;
    }
    if (yielder.due()) await yielder.pause();
  }
  const labelEnd = n > 0 ? imp.at[n - 1] + opts.labelWindowMs : -Infinity;
  while (e < events.length && events.at[e] <= labelEnd) {
    applyEvent(e++);
    if (yielder.due()) await yielder.pause();
  }

  return compact(log, opts, { x, heldX, labels, exposed, kinds, firstHeld, widths, queries, loggedFeatureRows, eventsApplied: e }, yielder);
}

interface QueryPlan {
  videos: number[];
  done: boolean;
  negatives: (at: number) => number[];
}

/** Picks the users that get a ranking query (deterministically) and what each will rank. */
function planQueries(log: TrainingLog, firstHeld: number, opts: DatasetOptions): Map<number, QueryPlan> {
  const { impressions: imp, catalog } = log;
  const byUser = new Map<number, Set<number>>();
  for (let r = firstHeld; r < imp.length; r++) {
    const u = imp.user[r];
    let set = byUser.get(u);
    if (!set) byUser.set(u, (set = new Set()));
    set.add(imp.video[r]);
  }
  const rng = createRng(opts.seed);
  const users = [...byUser.keys()];
  for (let i = users.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [users[i], users[j]] = [users[j], users[i]];
  }
  const plans = new Map<number, QueryPlan>();
  const served = imp.video.subarray(firstHeld, imp.length);
  for (const u of users.slice(0, opts.rankingUsers)) {
    const own = byUser.get(u)!;
    const userRng = createRng(opts.seed ^ Math.imul(u + 1, 0x9e3779b1));
    plans.set(u, {
      videos: [...own],
      done: false,
      negatives: (at) => {
        const picked = new Set<number>();
        for (let attempt = 0; picked.size < opts.rankingNegatives && attempt < opts.rankingNegatives * 20; attempt++) {
          const v = served[Math.floor(userRng() * served.length)];
          const video = catalog.videos[v];
          if (video.active && video.createdAt <= at && !own.has(v)) picked.add(v);
        }
        return [...picked];
      },
    });
  }
  return plans;
}

function snapshotQuery(
  user: number,
  at: number,
  fromLog: number[],
  negatives: number[],
  ctx: ReturnType<typeof userContext>,
  sets: FeatureSet[],
  videos: CatalogVideo[],
  videoStats: (VideoStats | undefined)[],
  noStats: VideoStats,
): RankingQuery & { candidatesFromLog: number } {
  const ids = Int32Array.from([...fromLog, ...negatives]);
  const cands = Array.from(ids, (v) => videos[v]);
  const stats = Array.from(ids, (v) => videoStats[v] ?? noStats);
  return {
    user,
    at,
    videos: ids,
    relevant: new Uint8Array(ids.length),
    x: sets.map((s) => buildFeatureMatrix(s.defs, ctx, cands, stats)),
    popularity: Float64Array.from(stats, (s) => s.views + s.likes + s.completes + s.shares),
    candidatesFromLog: fromLog.length,
  };
}

/** Keeps exposed impressions only, fills the label matrix and settles query relevance. */
async function compact(
  log: TrainingLog,
  opts: DatasetOptions,
  w: {
    x: Float32Array;
    heldX: Float32Array[];
    labels: Uint8Array;
    exposed: Uint8Array;
    kinds: Uint8Array;
    firstHeld: number;
    widths: number[];
    queries: (RankingQuery & { candidatesFromLog: number })[];
    loggedFeatureRows: number;
    eventsApplied: number;
  },
  yielder: EventLoopYielder,
): Promise<Dataset> {
  const { impressions: imp, catalog } = log;
  const n = imp.length;
  const w0 = w.widths[0];
  const nVideos = catalog.videos.length;
  let rows = 0;
  let trainRows = 0;
  let heldRows = 0;
  const y = new Float32Array(n * HEAD_COUNT);
  const at = new Float64Array(n);
  const user = new Int32Array(n);
  const video = new Int32Array(n);
  const heldOutcome = new Map<number, boolean>();
  for (let r = 0; r < n; r++) {
    if (!w.exposed[r]) continue;
    w.x.copyWithin(rows * w0, r * w0, (r + 1) * w0);
    for (let h = 0; h < HEAD_COUNT; h++) y[rows * HEAD_COUNT + h] = (w.labels[r] >> h) & 1;
    at[rows] = imp.at[r];
    user[rows] = imp.user[r];
    video[rows] = imp.video[r];
    if (yielder.due()) await yielder.pause();
    if (r < w.firstHeld) trainRows++;
    else {
      for (let k = 1; k < w.widths.length; k++) {
        const wk = w.widths[k];
        w.heldX[k].copyWithin(heldRows * wk, (r - w.firstHeld) * wk, (r - w.firstHeld + 1) * wk);
      }
      heldRows++;
      const key = imp.user[r] * nVideos + imp.video[r];
      // An engaged row (no logged impression) is relevant because the user chose it; an impression, if it was liked, completed or shared.
      const positive = w.kinds[r] === ROW_KIND.engaged ? (w.labels[r] & (1 << ENGAGE)) !== 0 : (w.labels[r] & POSITIVE_HEADS) !== 0;
      heldOutcome.set(key, (heldOutcome.get(key) ?? false) || positive);
    }
    rows++;
  }

  const queries: RankingQuery[] = [];
  for (const q of w.queries) {
    const keep: number[] = [];
    const relevant: number[] = [];
    q.videos.forEach((v, i) => {
      if (i >= q.candidatesFromLog) {
        keep.push(i);
        relevant.push(0);
        return;
      }
      const outcome = heldOutcome.get(q.user * nVideos + v);
      if (outcome === undefined) return; // served but never shown: unknown, not a negative
      keep.push(i);
      relevant.push(outcome ? 1 : 0);
    });
    queries.push({
      user: q.user,
      at: q.at,
      videos: Int32Array.from(keep, (i) => q.videos[i]),
      relevant: Uint8Array.from(relevant),
      x: q.x.map((m, k) => {
        const wk = w.widths[k];
        const out = new Float32Array(keep.length * wk);
        keep.forEach((i, j) => out.set(m.subarray(i * wk, (i + 1) * wk), j * wk));
        return out;
      }),
      popularity: Float64Array.from(keep, (i) => q.popularity[i]),
    });
  }

  const x = w.x.subarray(0, rows * w0);
  return {
    heads: LABEL_HEADS,
    featureNames: opts.featureSets[0].names,
    rows,
    trainRows,
    x,
    y: y.subarray(0, rows * HEAD_COUNT),
    at: at.subarray(0, rows),
    user: user.subarray(0, rows),
    video: video.subarray(0, rows),
    heldOutX: w.widths.map((wk, k) => (k === 0 ? x.subarray(trainRows * w0) : w.heldX[k].subarray(0, heldRows * wk))),
    queries,
    stats: {
      events: w.eventsApplied,
      impressions: n,
      exposed: rows,
      unexposed: n - rows,
      loggedFeatureRows: w.loggedFeatureRows,
    },
  };
}
