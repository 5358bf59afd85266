import { Injectable } from '@nestjs/common';
import { PoolCatalog } from '../candidates/candidate-pool';
import { AppConfig } from '../../config/app-config';
import { CatalogVideo } from '../../features/catalog-video';
import { parseHeadWeights } from '../../ranking/head-weights';
import { RankResult } from '../../ranking/ranker';
import { CandidateGatherer, SourceResult } from '../candidates/candidate-gatherer';
import { RerankDecision, RerankTrace } from '../stages/reranker';
import { PoolDropReason, TracedCandidatePool } from './traced-candidate-pool';

export type DropReason = PoolDropReason | Exclude<RerankDecision, 'exploration_slot' | `ranked${string}`>;

export interface ExplainedItem {
  videoId: string;
  position: number;
  /** Every source that found it; the first is the one credited (`source`). */
  foundBy: string[];
  /** The blended score the page was ordered by. */
  score: number;
  /** Each model head's probability and its RANK_WEIGHTS weight (empty for the heuristic or the fallback list). */
  heads: Record<string, { score: number; weight: number }>;
  /** The row the ranker saw, by feature name (empty when the page came from the fallback list). */
  features: Record<string, number>;
  /** Its place in plain score order (0 = best) and how the reranker placed it. */
  rerank: { scoreRank: number; decision: RerankDecision };
}

export interface DroppedCandidate {
  videoId: string;
  foundBy: string[];
  reason: DropReason;
  /** For candidates the reranker left out: their score and place in score order. */
  score?: number;
  scoreRank?: number;
}

export interface FeedExplanation {
  modelVersion: string;
  /** Degradations of this request (see reelrank_feed_fallback_total). */
  fallbacks: string[];
  /** The enabled candidate sources with their normalised shares and what each returned. */
  sources: { name: string; share: number; returned: number }[];
  rankWeights: Record<string, number>;
  items: ExplainedItem[];
  droppedCounts: Partial<Record<DropReason, number>>;
  dropped: DroppedCandidate[];
}

/** What the feed hands over from an explain request's stages. */
export interface ExplainInput {
  catalog: PoolCatalog;
  pool: TracedCandidatePool;
  results: readonly SourceResult[];
  /** The scores the reranker ordered by, index-aligned with the pool. */
  scores: Float32Array;
  rank: RankResult | null;
  version: string;
  trace: RerankTrace;
  picks: readonly number[];
  fallbacks: ReadonlySet<string>;
}

const round = (x: number) => Math.round(x * 1e6) / 1e6;

/** Builds the answer to `GET /v1/feed?explain=true` from the traces of one request. */
@Injectable()
export class FeedExplainer {
  private readonly weights: Map<string, number>;

  constructor(
    config: AppConfig,
    private readonly gatherer: CandidateGatherer,
  ) {
    this.weights = parseHeadWeights(config.RANK_WEIGHTS);
  }

  explain(input: ExplainInput): FeedExplanation {
    const { pool, trace, scores, rank } = input;
    input.pool.noteUnoffered(input.results);
    const foundBy = (i: number) => pool.foundBy.get(pool.ordinals[i]) ?? [pool.sources[i]];

    const items = input.picks.map(
      (i, position): ExplainedItem => ({
        videoId: pool.videos[i].id,
        position,
        foundBy: foundBy(i),
        score: round(scores[i]),
        heads: rank ? this.heads(rank, i) : {},
        features: rank ? this.features(rank, i) : {},
        rerank: { scoreRank: trace.scoreRank[i], decision: trace.decisions[i] },
      }),
    );

    const dropped: DroppedCandidate[] = [];
    for (const [ordinal, reason] of pool.dropped) {
      dropped.push({ videoId: this.idOf(input.catalog.videoAt(ordinal), ordinal), foundBy: pool.foundBy.get(ordinal) ?? [], reason });
    }
    for (const [videoId, sources] of pool.unknown) dropped.push({ videoId, foundBy: sources, reason: 'unknown' });
    const picked = new Set(input.picks);
    for (let i = 0; i < pool.size; i++) {
      if (picked.has(i)) continue;
      const reason = trace.decisions[i] as DropReason;
      dropped.push({ videoId: pool.videos[i].id, foundBy: foundBy(i), reason, score: round(scores[i]), scoreRank: trace.scoreRank[i] });
    }
    const droppedCounts: Partial<Record<DropReason, number>> = {};
    for (const d of dropped) droppedCounts[d.reason] = (droppedCounts[d.reason] ?? 0) + 1;

    const returned = new Map(input.results.map((r) => [r.source, r.ids.length]));
    return {
      modelVersion: input.version,
      fallbacks: [...input.fallbacks],
      sources: this.gatherer.plan.map(({ source, share }) => ({ name: source.name, share: round(share), returned: returned.get(source.name) ?? 0 })),
      rankWeights: Object.fromEntries(this.weights),
      items,
      droppedCounts,
      dropped,
    };
  }

  private heads(rank: RankResult, i: number): ExplainedItem['heads'] {
    const { headNames: names, headScores: scores } = rank;
    if (!names || !scores) return {};
    return Object.fromEntries(names.map((name, h) => [name, { score: round(scores[i * names.length + h]), weight: this.weights.get(name) ?? 0 }]));
  }

  private features(rank: RankResult, i: number): ExplainedItem['features'] {
    const names = rank.featureNames ?? [];
    return Object.fromEntries(names.map((name, f) => [name, round(rank.features[i * rank.width + f])]));
  }

  private idOf(video: CatalogVideo | undefined, ordinal: number): string {
    return video?.id ?? `#${ordinal}`;
  }
}
