import { Inject, Injectable, Logger } from '@nestjs/common';
import { performance } from 'node:perf_hooks';
import { AppConfig } from '../../config/app-config';
import { withDeadline } from '../../common/deadline';
import { FeedFallbackReason, FeedMetrics } from '../feed-metrics';
import { CANDIDATE_SOURCES, CandidateContext, CandidateIds, CandidateSource, SourceUnavailableError } from './candidate-source';
import { PlannedSource, planSources } from './source-shares';

export interface SourceResult {
  source: string;
  ids: CandidateIds;
}

class SourceLateError extends Error {}

/** Sources are asked for more than their share: filters (seen, served, ...) remove some. */
const OVERFETCH = 1.2;

/**
 * Runs every enabled candidate source in parallel (shares from FEED_SOURCES or each
 * class's default), each under its time budget. A source that throws or misses its
 * budget is left out of this request and counted; the rest serve.
 */
@Injectable()
export class CandidateGatherer {
  private readonly logger = new Logger(CandidateGatherer.name);
  /** The enabled sources, in priority order, with their normalised shares. */
  readonly plan: readonly PlannedSource[];
  private readonly limits: number[];

  constructor(
    @Inject(CANDIDATE_SOURCES) sources: CandidateSource[],
    private readonly config: AppConfig,
    private readonly metrics: FeedMetrics,
  ) {
    this.plan = planSources(sources, config.FEED_SOURCES);
    this.limits = this.plan.map((p) => Math.ceil(p.share * config.FEED_CANDIDATES * OVERFETCH));
  }

  async gather(base: Omit<CandidateContext, 'limit'>, fallbacks: Set<FeedFallbackReason>): Promise<SourceResult[]> {
    const runs = this.plan.map(({ source }, i) => this.run(source, { ...base, limit: this.limits[i] }, fallbacks));
    const results = await Promise.all(runs);
    return results.filter((r): r is SourceResult => r !== null);
  }

  private run(
    source: CandidateSource,
    ctx: CandidateContext,
    fallbacks: Set<FeedFallbackReason>,
  ): SourceResult | null | Promise<SourceResult | null> {
    const started = performance.now();
    let out: CandidateIds | Promise<CandidateIds>;
    try {
      out = source.fetch(ctx);
      if (!('then' in out)) {
        this.metrics.source(source.name, performance.now() - started);
        return { source: source.name, ids: out };
      }
    } catch (err) {
      return this.failed(source, err, fallbacks);
    }
    const budget = source.budgetMs ?? this.config.FEED_BUDGET_MS;
    return withDeadline(out, budget, () => new SourceLateError()).then(
      (ids) => {
        this.metrics.source(source.name, performance.now() - started);
        return { source: source.name, ids };
      },
      (err) => {
        if (!(err instanceof SourceLateError)) return this.failed(source, err, fallbacks);
        this.metrics.sourceDropped(source.name, 'timeout');
        return null;
      },
    );
  }

  private failed(source: CandidateSource, err: unknown, fallbacks: Set<FeedFallbackReason>): null {
    if (err instanceof SourceUnavailableError) {
      fallbacks.add(err.reason);
      return null;
    }
    this.metrics.sourceDropped(source.name, 'error');
    this.logger.warn(`candidate source ${source.name} failed: ${(err as Error)?.message ?? err}`);
    return null;
  }
}
