import { AppConfig } from '../../config/app-config';
import { emptyUserState } from '../../features/user-state';
import { FeedFallbackReason, FeedMetrics } from '../feed-metrics';
import { CandidateGatherer } from './candidate-gatherer';
import { CandidateSource, SourceUnavailableError } from './candidate-source';

class FakeMetrics {
  dropped: string[] = [];
  source(): void {}
  sourceDropped(source: string, reason: string): void {
    this.dropped.push(`${source}:${reason}`);
  }
}

const ctx = { userId: 'u', user: emptyUserState(4), userHasEmbedding: false, follows: new Set<string>(), history: null, now: 0 };

describe(CandidateGatherer.name, () => {
  it('runs sources in parallel and drops the ones that fail or miss their budget', async () => {
    const sources: CandidateSource[] = [
      { name: 'sync', share: 0.5, fetch: (c) => ['a', 'b', 'c'].slice(0, c.limit) },
      { name: 'async', share: 0.5, fetch: async () => ['d'] },
      { name: 'ordinals', share: 0.5, fetch: () => Int32Array.of(7, 3) },
      { name: 'null', share: 0.5, fetch: () => null as unknown as string[] },
      { name: 'slow', share: 0.5, budgetMs: 20, fetch: () => new Promise((r) => setTimeout(() => r(['late']), 500)) },
      { name: 'broken', share: 0.5, fetch: () => Promise.reject(new Error('boom')) },
      { name: 'down', share: 0.5, fetch: () => { throw new SourceUnavailableError('ann_unavailable', 'no index'); } },
    ];
    const metrics = new FakeMetrics();
    const gatherer = new CandidateGatherer(sources, Object.assign(new AppConfig(), { FEED_CANDIDATES: 2, FEED_BUDGET_MS: 50 }), metrics as unknown as FeedMetrics);
    const fallbacks = new Set<FeedFallbackReason>();
    const started = Date.now();
    const results = await gatherer.gather(ctx, fallbacks);
    expect(Date.now() - started).toBeLessThan(400);
    expect(results).toEqual([
      { source: 'sync', ids: ['a', 'b'] },
      { source: 'async', ids: ['d'] },
      { source: 'ordinals', ids: Int32Array.of(7, 3) },
    ]);
    expect(metrics.dropped.sort()).toEqual(['broken:error', 'null:error', 'slow:timeout']);
    expect([...fallbacks]).toEqual(['ann_unavailable']);
  });
});
