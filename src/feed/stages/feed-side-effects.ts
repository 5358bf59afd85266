import { Injectable, Logger } from '@nestjs/common';
import { ImpressionLogger } from '../data/impression-logger.service';
import { FeedFallbackReason, FeedMetrics } from '../feed-metrics';
import { ImpressionRow } from '../support/impression-copy';

const DEGRADATION_LOG_EVERY_MS = 10_000;

/** Feed stage 6: what a served page leaves behind: impressions, metrics and degradation reports (its served ids go in its cursor). */
@Injectable()
export class FeedSideEffects {
  private readonly logger = new Logger(FeedSideEffects.name);
  private readonly degradationLogged = new Map<FeedFallbackReason, { at: number; count: number }>();

  constructor(
    private readonly impressions: ImpressionLogger,
    private readonly metrics: FeedMetrics,
  ) {}

  /** Counts the served items, queues their impressions for the background COPY and reports the request's fallbacks. */
  served(impressions: ImpressionRow[], fallbacks: Set<FeedFallbackReason>): void {
    for (const row of impressions) this.metrics.itemServed(row.source);
    this.impressions.log(impressions);
    this.reportFallbacks(fallbacks);
  }

  /** Counts every degraded request; logs each reason at most once per 10 s, with the count since. */
  private reportFallbacks(fallbacks: Set<FeedFallbackReason>): void {
    if (fallbacks.size === 0) return;
    const now = Date.now();
    for (const reason of fallbacks) {
      this.metrics.fallback(reason);
      const entry = this.degradationLogged.get(reason) ?? { at: 0, count: 0 };
      entry.count++;
      if (now - entry.at >= DEGRADATION_LOG_EVERY_MS) {
        this.logger.warn(`feed degraded (${reason}): ${entry.count} request(s) since the last report`);
        entry.at = now;
        entry.count = 0;
      }
      this.degradationLogged.set(reason, entry);
    }
  }
}
