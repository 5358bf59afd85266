/**
 * Drift baselines and the population stability index (PSI).
 *
 * A baseline summarises, for one model, the distribution of each input feature and
 * of each output head on the data the model was trained on, as quantile bins. The
 * training pipeline stores it with the model in `model_versions.training_info.baseline`:
 *
 *   trainingInfo.baseline = computeBaseline(spec.features, trainingMatrix, { like: pLike, skip: pSkip, ... })
 *
 * where `trainingMatrix` is the row-major float32 matrix the model was fitted on
 * (`buildFeatureMatrix` output, columns in `spec.features` order) and each head's
 * array holds the model's predicted probability for every training row (the same
 * row order; heads named as in `spec.heads`). The drift job (DriftService) then
 * reports live traffic against it with `psi` as training-serving skew; drift itself is judged
 * against a live reference of the same shape (computeBaseline over the first window of
 * traffic the model served), see DriftService.
 */

/** A distribution as quantile bins: `fractions[i]` of the values fell in bin i. */
export interface BinnedDistribution {
  /**
   * Ascending, distinct cut points. Bins are right-closed: bin 0 is (-inf, edges[0]],
   * bin i is (edges[i-1], edges[i]], the last bin is (edges[last], +inf). So there
   * are edges.length + 1 bins (fewer than requested when values repeat, e.g. 0/1 flags).
   */
  edges: number[];
  /** Share of the values in each bin; sums to 1. */
  fractions: number[];
  /**
   * Independent values the shares rest on (see clusteredSampleSize): fewer than the rows
   * when rows repeat a user's or a video's value. Absent in baselines stored before it
   * was kept: the baseline's sampleSize stands in.
   */
  independent?: number;
}

export interface DriftBaseline {
  version: 1;
  /** Rows the baseline was computed from. */
  sampleSize: number;
  /** Per input feature, keyed by feature registry name. */
  features: Record<string, BinnedDistribution>;
  /** Per model output head (like, complete, skip, ...): the predicted probabilities. */
  scores: Record<string, BinnedDistribution>;
}

export const DEFAULT_BASELINE_BINS = 10;

/** Floor applied to bin shares in PSI so an empty bin gives a large but finite term. */
const PSI_EPSILON = 1e-4;

function finiteSorted(values: ArrayLike<number>): Float64Array {
  const out = new Float64Array(values.length);
  let n = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (Number.isFinite(v)) out[n++] = v;
  }
  return out.subarray(0, n).sort();
}

/** Index of the right-closed bin `value` falls in: the number of edges strictly below it. */
export function binIndex(edges: ArrayLike<number>, value: number): number {
  let lo = 0;
  let hi = edges.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (edges[mid] < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Share of the finite `values` in each bin delimited by `edges` (all zeros when there are none). */
export function binFractions(edges: ArrayLike<number>, values: ArrayLike<number>): number[] {
  const counts = new Array<number>(edges.length + 1).fill(0);
  let n = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!Number.isFinite(v)) continue;
    counts[binIndex(edges, v)]++;
    n++;
  }
  return counts.map((c) => (n === 0 ? 0 : c / n));
}

/**
 * Values closer than this share of the feature's range are one value to the bins: live
 * traffic reproduces a point mass (a count decayed over a second, a prior rate, an
 * in-session gap of a few seconds) only up to such differences, and an edge cut through
 * it turns timing noise into a large PSI.
 */
export const MIN_EDGE_GAP_FRACTION = 1e-3;

/**
 * Quantile bins of `values` (non-finite values are ignored): `bins` bins of about equal
 * mass. An edge closes a cluster of near-equal values (see MIN_EDGE_GAP_FRACTION) and sits
 * in the gap after it, at most that far above it and at most halfway to the next value.
 */
export function binDistribution(values: ArrayLike<number>, bins = DEFAULT_BASELINE_BINS): BinnedDistribution {
  if (!Number.isInteger(bins) || bins < 2) throw new RangeError('bins must be an integer >= 2');
  const sorted = finiteSorted(values);
  const edges: number[] = [];
  if (sorted.length > 0) {
    const gap = (sorted[sorted.length - 1] - sorted[0]) * MIN_EDGE_GAP_FRACTION;
    for (let k = 1; k < bins; k++) {
      let i = Math.max(0, Math.ceil((k * sorted.length) / bins) - 1);
      if (edges.length > 0 && sorted[i] <= edges[edges.length - 1]) continue;
      // the values within `gap` above the quantile go in its bin
      const top = sorted[i] + gap;
      while (i + 1 < sorted.length && sorted[i + 1] <= top) i++;
      const next = i + 1 < sorted.length ? sorted[i + 1] : Infinity;
      edges.push(gap > 0 ? sorted[i] + Math.min(gap, (next - sorted[i]) / 2) : sorted[i]);
    }
  }
  return { edges, fractions: binFractions(edges, sorted) };
}

/** Column `j` of a row-major matrix `width` values wide. */
export function matrixColumn(rows: ArrayLike<number>, width: number, j: number): Float64Array {
  const n = Math.floor(rows.length / width);
  const column = new Float64Array(n);
  for (let i = 0; i < n; i++) column[i] = rows[i * width + j];
  return column;
}

/** Per row, the integer id (from 0) of the cluster it belongs to, by user and by video. */
export interface RowClusters {
  user: ArrayLike<number>;
  video: ArrayLike<number>;
}

/** Independent values behind `values` clustered by user and by video: the fewer of the two. */
export function independentValues(distribution: BinnedDistribution, values: ArrayLike<number>, clusters: RowClusters): number {
  const bins = new Float64Array(values.length);
  for (let i = 0; i < values.length; i++) bins[i] = binIndex(distribution.edges, values[i]);
  return Math.min(clusteredSampleSize(bins, clusters.user), clusteredSampleSize(bins, clusters.video));
}

/**
 * The baseline of a model: quantile bins of every feature column of `rows` (row-major,
 * `featureNames.length` wide) and of every head's scores (one value per row). With the
 * user and video of each row (`clusters`), each distribution also records how many
 * independent values it rests on.
 */
export function computeBaseline(
  featureNames: readonly string[],
  rows: Float32Array,
  scores: Record<string, ArrayLike<number>>,
  bins = DEFAULT_BASELINE_BINS,
  clusters?: RowClusters,
): DriftBaseline {
  const width = featureNames.length;
  if (width === 0) throw new RangeError('featureNames must not be empty');
  if (rows.length % width !== 0) {
    throw new RangeError(`rows has ${rows.length} values, not a multiple of ${width} features`);
  }
  const n = rows.length / width;
  if (clusters && (clusters.user.length !== n || clusters.video.length !== n)) {
    throw new RangeError(`clusters must give a user and a video for each of the ${n} rows`);
  }
  const distribution = (values: ArrayLike<number>): BinnedDistribution => {
    const d = binDistribution(values, bins);
    return clusters ? { ...d, independent: round2(independentValues(d, values, clusters)) } : d;
  };
  const features: Record<string, BinnedDistribution> = {};
  featureNames.forEach((name, j) => {
    features[name] = distribution(matrixColumn(rows, width, j));
  });
  const heads: Record<string, BinnedDistribution> = {};
  for (const [head, values] of Object.entries(scores)) {
    if (values.length !== n) throw new RangeError(`scores.${head} has ${values.length} values for ${n} rows`);
    heads[head] = distribution(values);
  }
  return { version: 1, sampleSize: n, features, scores: heads };
}

const round2 = (v: number) => Math.round(v * 100) / 100;

/**
 * Population stability index of `live` values against a baseline distribution:
 * sum over bins of (live - base) * ln(live / base). Rule of thumb: < 0.1 stable,
 * 0.1-0.2 moderate shift, > 0.2 significant shift. NaN when `live` has no finite value.
 *
 * Bin shares are smoothed by half a count (Jeffreys) over the number of independent values
 * behind them: `sizes.live` (default: the finite live values; fewer when values repeat, as a
 * per-user feature does on each of a user's impressions) and `sizes.baseline` (without it
 * baseline shares are only floored). An empty bin then costs what a sample that small
 * can miss by chance, not ln(1e4).
 */
export function psi(baseline: BinnedDistribution, live: ArrayLike<number>, sizes: { live?: number; baseline?: number } = {}): number {
  const liveFractions = binFractions(baseline.edges, live);
  if (liveFractions.every((f) => f === 0)) return Number.NaN;
  let finite = 0;
  for (let i = 0; i < live.length; i++) if (Number.isFinite(live[i])) finite++;
  const bins = liveFractions.length;
  const smoothed = (share: number, n: number) => (share * n + 0.5) / (n + 0.5 * bins);
  const liveN = sizes.live ?? finite;
  let total = 0;
  for (let i = 0; i < bins; i++) {
    const base = baseline.fractions[i] ?? 0;
    const expected = sizes.baseline === undefined ? Math.max(base, PSI_EPSILON) : smoothed(base, sizes.baseline);
    const actual = smoothed(liveFractions[i], liveN);
    total += (actual - expected) * Math.log(actual / expected);
  }
  return total;
}

/** The chance that one drift check alerts on traffic that did not move, over all the distributions it compares. */
export const FALSE_ALERT_RATE = 0.001;

/**
 * Upper-tail quantile of the standard normal: z with P(Z > z) = p, for 0 < p <= 0.5
 * (Abramowitz and Stegun 26.2.23, absolute error below 4.5e-4).
 */
export function normalUpperQuantile(p: number): number {
  if (!(p > 0 && p <= 0.5)) throw new RangeError('p must be in (0, 0.5]');
  const t = Math.sqrt(-2 * Math.log(p));
  return t - (2.515517 + 0.802853 * t + 0.010328 * t * t) / (1 + 1.432788 * t + 0.189269 * t * t + 0.001308 * t * t * t);
}

/**
 * The PSI that sampling noise alone stays under when `bins` bins are compared between
 * `liveN` and `baselineN` independent values: PSI x n1n2/(n1+n2) is about chi-square with
 * bins - 1 degrees of freedom when nothing moved (quantile by Wilson-Hilferty). A check
 * comparing `comparisons` distributions (every feature and head) puts each at
 * FALSE_ALERT_RATE / comparisons (Bonferroni), so a check over 30 features is not 30
 * times as likely to alert by chance as one over a single feature.
 */
export function psiNoiseFloor(bins: number, liveN: number, baselineN: number, comparisons = 1): number {
  const df = Math.max(1, bins - 1);
  const z = normalUpperQuantile(FALSE_ALERT_RATE / Math.max(1, comparisons));
  const chi2 = df * Math.max(0, 1 - 2 / (9 * df) + z * Math.sqrt(2 / (9 * df))) ** 3;
  return chi2 * (1 / Math.max(1, liveN) + 1 / Math.max(1, baselineN));
}

/**
 * How many independent values a sample is worth when its values come in clusters (a
 * user's impressions share the user's features and largely their scores; a video's share
 * its stats): the sample size over Kish's design effect 1 + (m - 1) rho, with m the
 * size-weighted mean cluster size and rho the intra-cluster correlation (one-way ANOVA
 * estimate, clamped to [0, 1]) of `values` (use bin indices: PSI only sees bins). A value
 * that is constant within each cluster is worth one per cluster (about: fewer when
 * clusters differ in size), one that varies independently of it is worth one per value.
 * `clusters[i]` is the cluster of `values[i]`, an integer from 0.
 */
export function clusteredSampleSize(values: ArrayLike<number>, clusters: ArrayLike<number>): number {
  const n = values.length;
  if (n === 0) return 0;
  let k = 0;
  for (let i = 0; i < n; i++) k = Math.max(k, clusters[i] + 1);
  const count = new Float64Array(k);
  const sum = new Float64Array(k);
  let total = 0;
  for (let i = 0; i < n; i++) {
    count[clusters[i]]++;
    sum[clusters[i]] += values[i];
    total += values[i];
  }
  let groups = 0;
  let sumSquaredSizes = 0;
  for (let c = 0; c < k; c++) {
    if (count[c] === 0) continue;
    groups++;
    sumSquaredSizes += count[c] * count[c];
  }
  const meanSize = sumSquaredSizes / n;
  if (groups === n) return n;
  if (groups === 1) return 1;
  const mean = total / n;
  let between = 0;
  for (let c = 0; c < k; c++) if (count[c] > 0) between += count[c] * (sum[c] / count[c] - mean) ** 2;
  let within = 0;
  for (let i = 0; i < n; i++) within += (values[i] - sum[clusters[i]] / count[clusters[i]]) ** 2;
  const msb = between / (groups - 1);
  const msw = within / (n - groups);
  const m0 = (n - sumSquaredSizes / n) / (groups - 1);
  const denominator = msb + (m0 - 1) * msw;
  const rho = denominator > 0 ? Math.min(1, Math.max(0, (msb - msw) / denominator)) : 0;
  return n / (1 + (meanSize - 1) * rho);
}

function isDistribution(value: unknown): value is BinnedDistribution {
  const d = value as Partial<BinnedDistribution> | null;
  return (
    !!d &&
    Array.isArray(d.edges) &&
    Array.isArray(d.fractions) &&
    d.fractions.length === d.edges.length + 1 &&
    d.edges.every((e) => typeof e === 'number' && Number.isFinite(e)) &&
    d.fractions.every((f) => typeof f === 'number' && f >= 0) &&
    (d.independent === undefined || (typeof d.independent === 'number' && d.independent > 0))
  );
}

/** The baseline stored in a model's training info, or null when it is missing or malformed. */
export function parseBaseline(value: unknown): DriftBaseline | null {
  const b = value as Partial<DriftBaseline> | null;
  if (!b || typeof b !== 'object' || b.version !== 1) return null;
  if (!b.features || typeof b.features !== 'object' || !b.scores || typeof b.scores !== 'object') return null;
  const all = [...Object.values(b.features), ...Object.values(b.scores)];
  if (all.length === 0 || !all.every(isDistribution)) return null;
  return b as DriftBaseline;
}

/**
 * Independent values per bin each distribution of a live reference needs. Below it the
 * half-count smoothing weighs as much as the observed shares, and the reference's own noise
 * (psiNoiseFloor counts both sides) leaves later checks blind to all but huge shifts.
 */
export const REFERENCE_MIN_INDEPENDENT_PER_BIN = 2;

/** A distribution of `reference` that rests on fewer independent values than a reference needs. */
export interface ThinDistribution {
  key: string;
  independent: number;
  needed: number;
}

/** The distribution of `reference` furthest below REFERENCE_MIN_INDEPENDENT_PER_BIN (by share of what it needs), or null when none is. */
export function thinnestDistribution(reference: DriftBaseline): ThinDistribution | null {
  let thinnest: ThinDistribution | null = null;
  const entries = [
    ...Object.entries(reference.features).map(([name, d]) => [`feature ${name}`, d] as const),
    ...Object.entries(reference.scores).map(([name, d]) => [`score ${name}`, d] as const),
  ];
  for (const [key, d] of entries) {
    const independent = d.independent ?? reference.sampleSize;
    const needed = REFERENCE_MIN_INDEPENDENT_PER_BIN * (d.edges.length + 1);
    if (independent >= needed) continue;
    if (!thinnest || independent / needed < thinnest.independent / thinnest.needed) thinnest = { key, independent, needed };
  }
  return thinnest;
}
