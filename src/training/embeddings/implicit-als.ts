import { EVENT_TYPES, EVENT_WEIGHTS } from '../../events/event-types';
import { createRng } from '../model/mlp';
import { EventLoopYielder } from '../../common/event-loop-yielder';
import { EventLog, UNKNOWN_VIDEO } from '../data/training-log';

export interface AlsOptions {
  dim: number;
  iterations: number;
  /** L2 regularisation of user and item factors when no video has a content embedding. */
  lambda: number;
  /**
   * Regularisation when anchors exist. Large: with the item side pinned to content
   * embeddings, strong shrinkage keeps factors in that space instead of whitening them
   * (on sparse engagement this measured far closer to the hidden truth).
   */
  anchoredLambda: number;
  /** Confidence of an observed preference: 1 + alpha * engagement weight. */
  alpha: number;
  /** Videos need at least this many engaged users to get a learned vector. */
  minSupport: number;
  /**
   * Pseudo-count of the prior: a video engaged by n users gets
   * normalize(n * evidence + priorStrength * prior) / (n + priorStrength).
   */
  priorStrength: number;
  seed: number;
  yielder?: EventLoopYielder;
}

export const DEFAULT_ALS_OPTIONS: Omit<AlsOptions, 'dim'> = {
  iterations: 4,
  lambda: 10,
  anchoredLambda: 1000,
  alpha: 2,
  minSupport: 1,
  priorStrength: 4,
  seed: 7,
};

/** Sparse user x video preferences: rows by user (CSR) and, for learnable videos, by video. */
export interface Engagements {
  users: number;
  videos: number;
  userPtr: Int32Array;
  userVideo: Int32Array;
  userWeight: Float32Array;
}

const WEIGHT_BY_CODE = Float32Array.from(EVENT_TYPES, (t) => EVENT_WEIGHTS[t]);

/**
 * Sums the taste weights of each user's events per video in [from, to) (the same
 * weights that move the online user state: like, share, complete and view up, skip
 * down) and keeps the pairs with a positive total.
 */
export function collectEngagements(events: EventLog, users: number, videos: number, from: number, to: number): Engagements {
  // Bucket the weighted events by user (two passes, no per-pair hash map over the whole
  // log), then sum each user's weights per video in first-seen order.
  const eventUser = events.user;
  const starts = new Int32Array(users + 1);
  const counted = (i: number) => {
    const at = events.at[i];
    return at >= from && at < to && events.video[i] !== UNKNOWN_VIDEO && WEIGHT_BY_CODE[events.type[i]] !== 0;
  };
  for (let i = 0; i < events.length; i++) if (counted(i)) starts[eventUser[i] + 1]++;
  for (let u = 0; u < users; u++) starts[u + 1] += starts[u];
  const fill = starts.slice(0, users);
  const byUserVideo = new Int32Array(starts[users]);
  const byUserWeight = new Float64Array(starts[users]);
  for (let i = 0; i < events.length; i++) {
    if (!counted(i)) continue;
    const p = fill[eventUser[i]]++;
    byUserVideo[p] = events.video[i];
    byUserWeight[p] = WEIGHT_BY_CODE[events.type[i]];
  }

  const userPtr = new Int32Array(users + 1);
  const userVideo = new Int32Array(starts[users]);
  const userWeight = new Float32Array(starts[users]);
  const sums = new Map<number, number>();
  let nnz = 0;
  for (let u = 0; u < users; u++) {
    sums.clear();
    for (let p = starts[u]; p < starts[u + 1]; p++) sums.set(byUserVideo[p], (sums.get(byUserVideo[p]) ?? 0) + byUserWeight[p]);
    for (const [v, w] of sums) {
      if (w <= 0) continue;
      userVideo[nnz] = v;
      userWeight[nnz] = w;
      nnz++;
    }
    userPtr[u + 1] = nnz;
  }
  return { users, videos, userPtr, userVideo: userVideo.slice(0, nnz), userWeight: userWeight.slice(0, nnz) };
}

export interface AlsResult {
  /** Unit-length learned vectors of the videos that had none and enough support. */
  learned: Map<number, Float32Array>;
  anchored: number;
  users: number;
  seconds: number;
}

/**
 * Implicit-feedback ALS (Hu, Koren & Volinsky 2008) where videos that have a content
 * embedding are fixed to it. User factors are fitted against those anchors, so the
 * vectors solved for the other videos live in the content-embedding space and can be
 * mixed with content embeddings by the ANN index and the user-state updates. With no
 * anchors at all it is plain ALS from a random start.
 */
export async function learnItemEmbeddings(
  data: Engagements,
  anchors: (Float32Array | null)[],
  opts: AlsOptions,
  priors: (Float32Array | null)[] = [],
): Promise<AlsResult> {
  const started = Date.now();
  const { dim, alpha } = opts;
  const yielder = opts.yielder ?? new EventLoopYielder();
  const { users, videos, userPtr, userVideo, userWeight } = data;

  const support = new Int32Array(videos);
  for (let p = 0; p < userVideo.length; p++) support[userVideo[p]]++;
  const learnable: number[] = [];
  let anchored = 0;
  for (let v = 0; v < videos; v++) {
    if (anchors[v] && anchors[v]!.length !== dim) throw new RangeError(`anchor of video ${v} has ${anchors[v]!.length} values, expected ${dim}`);
    if (anchors[v]) anchored++;
    else if (support[v] >= opts.minSupport) learnable.push(v);
  }

  const lambda = anchored > 0 ? opts.anchoredLambda : opts.lambda;

  // Item factors: anchors copied, learnable start at zero (so the first user pass sees
  // only anchors), or random when there are no anchors to start from.
  const Y = new Float32Array(videos * dim);
  for (let v = 0; v < videos; v++) {
    const a = anchors[v];
    if (a) Y.set(a, v * dim);
  }
  if (anchored === 0) {
    const rng = createRng(opts.seed);
    for (const v of learnable) for (let d = 0; d < dim; d++) Y[v * dim + d] = (rng() - 0.5) * 0.1;
  }

  // Transpose (video -> engaged users) for the learnable videos only.
  const slot = new Int32Array(videos).fill(-1);
  learnable.forEach((v, i) => (slot[v] = i));
  const itemPtr = new Int32Array(learnable.length + 1);
  for (let p = 0; p < userVideo.length; p++) if (slot[userVideo[p]] >= 0) itemPtr[slot[userVideo[p]] + 1]++;
  for (let i = 0; i < learnable.length; i++) itemPtr[i + 1] += itemPtr[i];
  const fill = itemPtr.slice(0, learnable.length);
  const itemUser = new Int32Array(itemPtr[learnable.length]);
  const itemWeight = new Float32Array(itemPtr[learnable.length]);
  for (let u = 0; u < users; u++) {
    for (let p = userPtr[u]; p < userPtr[u + 1]; p++) {
      const s = slot[userVideo[p]];
      if (s < 0) continue;
      const q = fill[s]++;
      itemUser[q] = u;
      itemWeight[q] = userWeight[p];
    }
  }

  const X = new Float32Array(users * dim);
  const A = new Float64Array(dim * dim);
  const b = new Float64Array(dim);
  const sol = new Float64Array(dim);
  const anchorGram = await gram(Y, anchors.map((a, v) => (a ? v : -1)).filter((v) => v >= 0), dim, yielder);

  for (let iter = 0; iter < opts.iterations; iter++) {
    const G = anchorGram.slice();
    const learnedGram = await gram(Y, learnable, dim, yielder);
    for (let k = 0; k < G.length; k++) G[k] += learnedGram[k];
    for (let u = 0; u < users; u++) {
      if (userPtr[u] === userPtr[u + 1]) continue;
      A.set(G);
      b.fill(0);
      for (let p = userPtr[u]; p < userPtr[u + 1]; p++) {
        const c = 1 + alpha * userWeight[p];
        accumulate(A, b, Y, userVideo[p] * dim, c, dim);
      }
      solveInto(A, b, lambda, dim, sol);
      for (let d = 0; d < dim; d++) X[u * dim + d] = sol[d];
      if (yielder.due()) await yielder.pause();
    }
    const XtX = await gram(X, null, dim, yielder, users);
    for (let i = 0; i < learnable.length; i++) {
      A.set(XtX);
      b.fill(0);
      for (let q = itemPtr[i]; q < itemPtr[i + 1]; q++) {
        const c = 1 + alpha * itemWeight[q];
        accumulate(A, b, X, itemUser[q] * dim, c, dim);
      }
      solveInto(A, b, lambda, dim, sol);
      const off = learnable[i] * dim;
      for (let d = 0; d < dim; d++) Y[off + d] = sol[d];
      if (yielder.due()) await yielder.pause();
    }
  }

  const learned = new Map<number, Float32Array>();
  for (const v of learnable) {
    const vec = normalize(Y.slice(v * dim, (v + 1) * dim));
    if (!vec) continue;
    const prior = priors[v];
    if (prior) {
      const n = support[v];
      for (let d = 0; d < dim; d++) vec[d] = n * vec[d] + opts.priorStrength * prior[d];
    }
    const out = normalize(vec);
    if (out) learned.set(v, out);
  }
  let activeUsers = 0;
  for (let u = 0; u < users; u++) if (userPtr[u] < userPtr[u + 1]) activeUsers++;
  return { learned, anchored, users: activeUsers, seconds: (Date.now() - started) / 1000 };
}

/** Scales `v` to unit length in place; null for a zero vector. */
function normalize(v: Float32Array): Float32Array | null {
  let norm = 0;
  for (let d = 0; d < v.length; d++) norm += v[d] * v[d];
  norm = Math.sqrt(norm);
  if (!(norm > 1e-9)) return null;
  for (let d = 0; d < v.length; d++) v[d] /= norm;
  return v;
}

/**
 * Per video, the normalised mean content embedding of its category: where a video's
 * own engagement is thin, its learned vector leans on what similar videos look like.
 */
export function categoryPriors(categories: string[], anchors: (Float32Array | null)[], dim: number): (Float32Array | null)[] {
  const sums = new Map<string, Float32Array>();
  categories.forEach((c, v) => {
    const a = anchors[v];
    if (!a) return;
    let sum = sums.get(c);
    if (!sum) sums.set(c, (sum = new Float32Array(dim)));
    for (let d = 0; d < dim; d++) sum[d] += a[d];
  });
  for (const [c, sum] of sums) {
    const unit = normalize(sum);
    if (unit) sums.set(c, unit);
    else sums.delete(c);
  }
  return categories.map((c, v) => (anchors[v] ? null : (sums.get(c) ?? null)));
}

/** Sum of v v^T over the given rows of M (all `count` rows when `rows` is null). */
async function gram(M: Float32Array, rows: number[] | null, dim: number, yielder: EventLoopYielder, count = 0): Promise<Float64Array> {
  const G = new Float64Array(dim * dim);
  const n = rows ? rows.length : count;
  for (let k = 0; k < n; k++) {
    const off = (rows ? rows[k] : k) * dim;
    for (let i = 0; i < dim; i++) {
      const a = M[off + i];
      if (a === 0) continue;
      for (let j = 0; j < dim; j++) G[i * dim + j] += a * M[off + j];
    }
    if (yielder.due()) await yielder.pause();
  }
  return G;
}

/** A += (c - 1) v v^T and b += c v for the factor row at `off`. */
function accumulate(A: Float64Array, b: Float64Array, M: Float32Array, off: number, c: number, dim: number): void {
  const extra = c - 1;
  for (let i = 0; i < dim; i++) {
    const vi = M[off + i];
    if (vi === 0) continue;
    b[i] += c * vi;
    const s = extra * vi;
    for (let j = 0; j < dim; j++) A[i * dim + j] += s * M[off + j];
  }
}

/** Solves (A + lambda I) x = b by Cholesky (A is symmetric positive semi-definite). */
function solveInto(A: Float64Array, b: Float64Array, lambda: number, dim: number, x: Float64Array): void {
  for (let i = 0; i < dim; i++) A[i * dim + i] += lambda;
  for (let j = 0; j < dim; j++) {
    let s = A[j * dim + j];
    for (let k = 0; k < j; k++) s -= A[j * dim + k] * A[j * dim + k];
    const d = Math.sqrt(Math.max(s, 1e-12));
    A[j * dim + j] = d;
    for (let i = j + 1; i < dim; i++) {
      let t = A[i * dim + j];
      for (let k = 0; k < j; k++) t -= A[i * dim + k] * A[j * dim + k];
      A[i * dim + j] = t / d;
    }
  }
  for (let i = 0; i < dim; i++) {
    let t = b[i];
    for (let k = 0; k < i; k++) t -= A[i * dim + k] * x[k];
    x[i] = t / A[i * dim + i];
  }
  for (let i = dim - 1; i >= 0; i--) {
    let t = x[i];
    for (let k = i + 1; k < dim; k++) t -= A[k * dim + i] * x[k];
    x[i] = t / A[i * dim + i];
  }
}
