import { RANKING_K, RankingMetrics } from './evaluation/offline-evaluation';

export interface ActivationDecision {
  promote: boolean;
  decision: string;
}

const fmt = (v: number | null | undefined) => (v === null || v === undefined ? 'n/a' : v.toFixed(4));

/**
 * Whether a newly trained model goes live. It must beat what would serve instead, scored
 * on the same held-out queries: the active model (by more than `minGain`) or, with none
 * active, the heuristic ranker. It must also beat popularity, unless what serves instead
 * does not beat popularity either: then the better of the two goes live, since keeping
 * the worse one helps nobody.
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
  // What serves if this model does not: the active model, or the heuristic ranker.
  const incumbent = activeId ? ranking.previous?.ndcg : ranking.fallback?.ndcg;
  const known = (v: number | null | undefined): v is number => v !== null && v !== undefined;
  const incumbentBelowPopularity = known(incumbent) && known(popularity) && !(incumbent > popularity);
  if (mine === null || popularity === null || (!(mine > popularity) && !incumbentBelowPopularity)) {
    const kept = activeId ? `; ${activeId} stays active` : '; the fallback ranker keeps serving';
    return { promote: false, decision: `not activated: ${at} ${fmt(mine)} does not beat popularity's ${fmt(popularity)}${kept}` };
  }
  const belowPopularity = mine > popularity ? '' : `, popularity's ${fmt(popularity)} beats both`;
  if (!activeId) {
    if (known(incumbent) && !(mine > incumbent)) {
      return { promote: false, decision: `not activated: ${at} ${fmt(mine)} does not beat the heuristic ranker's ${fmt(incumbent)}, which keeps serving` };
    }
    return {
      promote: true,
      decision: `activated (${at} ${fmt(mine)} vs popularity ${fmt(popularity)} and the heuristic ranker ${fmt(incumbent)}; no model was active${belowPopularity})`,
    };
  }
  if (!known(incumbent)) return { promote: false, decision: `kept ${activeId} active (could not compare on ${at})` };
  if (mine - incumbent > options.minGain) {
    return { promote: true, decision: `activated (${at} ${fmt(mine)} vs ${fmt(incumbent)} for ${activeId} and ${fmt(popularity)} for popularity${belowPopularity})` };
  }
  return { promote: false, decision: `kept ${activeId} active (${at} ${fmt(mine)} vs its ${fmt(incumbent)})` };
}
