import { auc, hitRateAtK, logLoss, ndcgAtK } from '../model/metrics';
import { RankingQuery } from '../data/point-in-time-dataset';

export const RANKING_K = 10;

export interface HeadMetrics {
  auc: number | null;
  logLoss: number;
  /** Log loss of always predicting the training base rate: what the model must beat. */
  baselineLogLoss: number;
  positiveRate: number;
}

export interface RankingMetrics {
  hitRate: number | null;
  ndcg: number | null;
}

const finiteOrNull = (v: number) => (Number.isFinite(v) ? v : null);

/** AUC and log loss per head on held-out rows (scores and labels rows x heads). */
export function headMetrics(
  scores: ArrayLike<number>,
  scoreHeads: readonly string[],
  labels: ArrayLike<number>,
  labelHeads: readonly string[],
  trainRates: Record<string, number>,
): Record<string, HeadMetrics> {
  const rows = labels.length / labelHeads.length;
  const out: Record<string, HeadMetrics> = {};
  scoreHeads.forEach((head, j) => {
    const l = labelHeads.indexOf(head);
    if (l < 0) return;
    const s = new Float64Array(rows);
    const y = new Float64Array(rows);
    let positives = 0;
    for (let r = 0; r < rows; r++) {
      s[r] = scores[r * scoreHeads.length + j];
      y[r] = labels[r * labelHeads.length + l];
      positives += y[r];
    }
    const rate = Math.min(Math.max(trainRates[head] ?? 0.5, 1e-6), 1 - 1e-6);
    out[head] = {
      auc: finiteOrNull(auc(s, y)),
      logLoss: logLoss(s, y),
      baselineLogLoss: logLoss(new Float64Array(rows).fill(rate), y),
      positiveRate: rows > 0 ? positives / rows : 0,
    };
  });
  return out;
}

/** Per head share of positive labels among the first `rows` rows. */
export function labelRates(labels: ArrayLike<number>, heads: readonly string[], rows: number): Record<string, number> {
  const rates: Record<string, number> = {};
  heads.forEach((head, j) => {
    let sum = 0;
    for (let r = 0; r < rows; r++) sum += labels[r * heads.length + j];
    rates[head] = rows > 0 ? sum / rows : 0;
  });
  return rates;
}

/** A fixed pseudo-random order for ties, so equal scores never favour the candidates listed first. */
function tieBreak(user: number, video: number): number {
  let h = Math.imul(user + 0x632be5ab, 0x85ebca6b) ^ Math.imul(video + 0x9e3779b9, 0xc2b2ae35);
  h ^= h >>> 13;
  h = Math.imul(h, 0x27d4eb2f);
  return (h ^ (h >>> 16)) >>> 0;
}

/** HR@K and NDCG@K of ranking each query's candidates by `score(query)` (higher first). */
export function rankingMetrics(queries: RankingQuery[], score: (q: RankingQuery, index: number) => ArrayLike<number>): RankingMetrics {
  const lists: number[][] = [];
  const relevant: Set<number>[] = [];
  queries.forEach((q, qi) => {
    const s = score(q, qi);
    const ties = Float64Array.from(q.videos, (v) => tieBreak(q.user, v));
    const order = Array.from(q.videos.keys());
    order.sort((a, b) => s[b] - s[a] || ties[a] - ties[b]);
    lists.push(order.map((i) => q.videos[i]));
    const rel = new Set<number>();
    q.relevant.forEach((isRel, i) => isRel && rel.add(q.videos[i]));
    relevant.push(rel);
  });
  if (lists.length === 0) return { hitRate: null, ndcg: null };
  return {
    hitRate: finiteOrNull(hitRateAtK(lists, relevant, RANKING_K)),
    ndcg: finiteOrNull(ndcgAtK(lists, relevant, RANKING_K)),
  };
}
