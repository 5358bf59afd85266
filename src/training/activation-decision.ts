import { RANKING_K, RankingMetrics } from './evaluation/offline-evaluation';

export interface ActivationDecision {
  promote: boolean;
  decision: string;
}

const fmt = (v: number | null | undefined) => (v === null || v === undefined ? 'n/a' : v.toFixed(4));

/**
 * Whether a newly trained model goes live: never unless it beats popularity on its own
 * held-out data (even when no model is active: the fallback ranker then keeps serving),
 * and, when a model is active, only if it also beats that model by more than `minGain`.
 */
export function activationDecision(
  ranking: { model: RankingMetrics; popularity: RankingMetrics; previous: RankingMetrics | null; fallback?: RankingMetrics },
  activeId: string | null,
  options: { autoPromote: boolean; minGain: number },
): ActivationDecision {
  if (!options.autoPromote) return { promote: false, decision: 'registered as candidate (auto-promotion off)' };
  const mine = ranking.model.ndcg;
  const popularity = ranking.popularity.ndcg;
  const at = `held-out NDCG@${RANKING_K}`;
  if (mine === null || popularity === null || !(mine > popularity)) {
    const kept = activeId ? `; ${activeId} stays active` : '; the fallback ranker keeps serving';
    return { promote: false, decision: `not activated: ${at} ${fmt(mine)} does not beat popularity's ${fmt(popularity)}${kept}` };
  }
  if (!activeId) {
    // What serves meanwhile is the heuristic ranker: the model must beat it too.
    const fallback = ranking.fallback?.ndcg;
    if (fallback !== null && fallback !== undefined && !(mine > fallback)) {
      return { promote: false, decision: `not activated: ${at} ${fmt(mine)} does not beat the heuristic ranker's ${fmt(fallback)}, which keeps serving` };
    }
    return { promote: true, decision: `activated (${at} ${fmt(mine)} vs popularity ${fmt(popularity)} and the heuristic ranker ${fmt(fallback)}; no model was active)` };
  }
  const theirs = ranking.previous?.ndcg;
  if (theirs === null || theirs === undefined) return { promote: false, decision: `kept ${activeId} active (could not compare on ${at})` };
  if (mine - theirs > options.minGain) {
    return { promote: true, decision: `activated (${at} ${fmt(mine)} vs ${fmt(theirs)} for ${activeId} and ${fmt(popularity)} for popularity)` };
  }
  return { promote: false, decision: `kept ${activeId} active (${at} ${fmt(mine)} vs its ${fmt(theirs)})` };
}
