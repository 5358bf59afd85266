import { Injectable } from '@nestjs/common';
import { Counter, Histogram, Registry } from 'prom-client';
import { RankFallbackReason } from '../ranking/ranker';

export const FEED_STAGES = ['user', 'candidates', 'filter', 'hydrate', 'rank', 'rerank', 'total'] as const;
export type FeedStage = (typeof FEED_STAGES)[number];

export type FeedFallbackReason =
  | RankFallbackReason
  | 'ann_unavailable'
  | 'redis_unavailable'
  | 'redis_timeout'
  /** Some candidates' stats were unreadable (their master down or slow on a cluster): ranked on cached or empty stats, still personalised. */
  | 'video_stats_partial'
  | 'user_graph_unavailable'
  | 'candidates_short';

const LATENCY_BUCKETS = [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1];

/** The feed's Prometheus metrics: per-stage and per-source latency, fallbacks by reason, dropped sources. */
@Injectable()
export class FeedMetrics {
  private readonly stages: Record<FeedStage, Histogram.Internal<'stage'>>;
  private readonly stageHistogram: Histogram<'stage'>;
  private readonly sourceHistogram: Histogram<'source'>;
  private readonly fallbacks: Counter<'reason'>;
  private readonly dropped: Counter<'source' | 'reason'>;
  private readonly served: Counter<'source'>;
  private readonly servedBySource = new Map<string, Counter.Internal>();
  private readonly sourceBySource = new Map<string, Histogram.Internal<'source'>>();

  constructor(registry: Registry) {
    this.stageHistogram = new Histogram({
      name: 'reelrank_feed_stage_seconds',
      help: 'Latency of each stage of GET /v1/feed (total = the whole request in the service)',
      labelNames: ['stage'],
      buckets: LATENCY_BUCKETS,
      registers: [registry],
    });
    this.stages = Object.fromEntries(FEED_STAGES.map((s) => [s, this.stageHistogram.labels(s)])) as Record<
      FeedStage,
      Histogram.Internal<'stage'>
    >;
    this.sourceHistogram = new Histogram({
      name: 'reelrank_feed_source_seconds',
      help: 'Latency of each candidate source',
      labelNames: ['source'],
      buckets: LATENCY_BUCKETS,
      registers: [registry],
    });
    this.fallbacks = new Counter({
      name: 'reelrank_feed_fallback_total',
      help: 'Feed requests served in a degraded way, by reason',
      labelNames: ['reason'],
      registers: [registry],
    });
    this.dropped = new Counter({
      name: 'reelrank_feed_source_dropped_total',
      help: 'Candidate sources left out of a request because they failed or ran past their budget',
      labelNames: ['source', 'reason'],
      registers: [registry],
    });
    this.served = new Counter({
      name: 'reelrank_feed_items_served_total',
      help: 'Feed items served, by the candidate source that found them',
      labelNames: ['source'],
      registers: [registry],
    });
  }

  stage(stage: FeedStage, ms: number): void {
    this.stages[stage].observe(ms / 1000);
  }

  source(source: string, ms: number): void {
    let child = this.sourceBySource.get(source);
    if (!child) this.sourceBySource.set(source, (child = this.sourceHistogram.labels(source)));
    child.observe(ms / 1000);
  }

  fallback(reason: FeedFallbackReason): void {
    this.fallbacks.labels(reason).inc();
  }

  sourceDropped(source: string, reason: 'timeout' | 'error'): void {
    this.dropped.labels(source, reason).inc();
  }

  itemServed(source: string): void {
    let child = this.servedBySource.get(source);
    if (!child) this.servedBySource.set(source, (child = this.served.labels(source)));
    child.inc();
  }
}
