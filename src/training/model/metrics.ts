/** Offline evaluation metrics for the ranker. */

type Numbers = ArrayLike<number>;

const LOG_LOSS_EPS = 1e-7;

function checkSameLength(a: Numbers, b: Numbers, what: string): void {
  if (a.length !== b.length) throw new RangeError(`${what}: lengths differ (${a.length} vs ${b.length})`);
}

/**
 * ROC AUC via the Mann-Whitney statistic: the share of (positive, negative) pairs the
 * scores order correctly, ties counting half. Labels are treated as positive when > 0.5.
 * NaN when a class is absent. Positive and negative scores are sorted apart (typed-array
 * sorts, no comparator) and merged, which keeps it fast on hundreds of thousands of rows.
 */
export function auc(scores: Numbers, labels: Numbers): number {
  checkSameLength(scores, labels, 'auc');
  const n = scores.length;
  let positives = 0;
  for (let i = 0; i < n; i++) if (labels[i] > 0.5) positives++;
  const negatives = n - positives;
  if (positives === 0 || negatives === 0) return NaN;
  const pos = new Float64Array(positives);
  const neg = new Float64Array(negatives);
  for (let i = 0, p = 0, q = 0; i < n; i++) {
    if (labels[i] > 0.5) pos[p++] = scores[i];
    else neg[q++] = scores[i];
  }
  pos.sort();
  neg.sort();
  // For each positive: negatives strictly below it, plus half of those equal to it.
  let below = 0;
  let upTo = 0;
  let pairs = 0;
  for (let p = 0; p < positives; p++) {
    const s = pos[p];
    while (below < negatives && neg[below] < s) below++;
    if (upTo < below) upTo = below;
    while (upTo < negatives && neg[upTo] <= s) upTo++;
    pairs += below + (upTo - below) / 2;
  }
  return pairs / (positives * negatives);
}

/** Per-head AUC for row-major rows*heads arrays; entries with mask 0 are skipped. */
export function aucPerHead(scores: Numbers, labels: Numbers, heads: number, mask?: Numbers): number[] {
  checkSameLength(scores, labels, 'aucPerHead');
  if (mask) checkSameLength(scores, mask, 'aucPerHead mask');
  if (!Number.isInteger(heads) || heads <= 0 || scores.length % heads !== 0) {
    throw new RangeError(`aucPerHead: ${scores.length} values do not split into ${heads} heads`);
  }
  const result: number[] = [];
  for (let h = 0; h < heads; h++) {
    const s: number[] = [];
    const y: number[] = [];
    for (let k = h; k < scores.length; k += heads) {
      if (mask && mask[k] === 0) continue;
      s.push(scores[k]);
      y.push(labels[k]);
    }
    result.push(auc(s, y));
  }
  return result;
}

/** Mean binary cross-entropy (natural log); probabilities clipped to [1e-7, 1 - 1e-7]. */
export function logLoss(scores: Numbers, labels: Numbers): number {
  checkSameLength(scores, labels, 'logLoss');
  if (scores.length === 0) return NaN;
  let sum = 0;
  for (let i = 0; i < scores.length; i++) {
    const p = Math.min(Math.max(scores[i], LOG_LOSS_EPS), 1 - LOG_LOSS_EPS);
    const y = labels[i];
    sum -= y * Math.log(p) + (1 - y) * Math.log(1 - p);
  }
  return sum / scores.length;
}

function checkRanking<T>(rankedLists: readonly (readonly T[])[], relevant: ReadonlySet<T>[], k: number): void {
  if (rankedLists.length !== relevant.length) {
    throw new RangeError(`ranking: ${rankedLists.length} lists but ${relevant.length} relevance sets`);
  }
  if (!Number.isInteger(k) || k <= 0) throw new RangeError(`k must be a positive integer, got ${k}`);
}

/**
 * Share of queries with at least one relevant item in the top k.
 * Queries without relevant items are excluded; NaN if none remain.
 */
export function hitRateAtK<T>(rankedLists: readonly (readonly T[])[], relevant: ReadonlySet<T>[], k: number): number {
  checkRanking(rankedLists, relevant, k);
  let hits = 0;
  let counted = 0;
  rankedLists.forEach((list, q) => {
    const rel = relevant[q];
    if (rel.size === 0) return;
    counted++;
    if (list.slice(0, k).some((item) => rel.has(item))) hits++;
  });
  return counted === 0 ? NaN : hits / counted;
}

/**
 * Mean NDCG@k with binary relevance, gain 1 / log2(rank + 1).
 * A repeated item only earns gain once; queries without relevant items are excluded.
 */
export function ndcgAtK<T>(rankedLists: readonly (readonly T[])[], relevant: ReadonlySet<T>[], k: number): number {
  checkRanking(rankedLists, relevant, k);
  let total = 0;
  let counted = 0;
  rankedLists.forEach((list, q) => {
    const rel = relevant[q];
    if (rel.size === 0) return;
    counted++;
    const seen = new Set<T>();
    let dcg = 0;
    const depth = Math.min(k, list.length);
    for (let i = 0; i < depth; i++) {
      const item = list[i];
      if (rel.has(item) && !seen.has(item)) dcg += 1 / Math.log2(i + 2);
      seen.add(item);
    }
    let idcg = 0;
    const ideal = Math.min(k, rel.size);
    for (let i = 0; i < ideal; i++) idcg += 1 / Math.log2(i + 2);
    total += dcg / idcg;
  });
  return counted === 0 ? NaN : total / counted;
}
