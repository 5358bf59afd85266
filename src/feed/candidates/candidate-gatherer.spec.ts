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

const ctx = { userId: 'u', user: emptyUserState(4), userHasEmbedding: false, follows: new Set<string>(), history: null, sequence: null, now: 0 };

describe(CandidateGatherer.name, () => {
  it('runs sources in parallel and drops the ones that fail or miss their budget', async () => {
    const sources: CandidateSource[] = [
      { name: 'sync', defaultShare: 0.5, fetch: (c) => ['a', 'b', 'c'].slice(0, c.limit) },
      { name: 'async', defaultShare: 0.5, fetch: async () => ['d'] },
      { name: 'ordinals', defaultShare: 0.5, fetch: () => Int32Array.of(7, 3) },
      { name: 'null', defaultShare: 0.5, fetch: () => null as unknown as string[] },
      { name: 'slow', defaultShare: 0.5, budgetMs: 20, fetch: () => new Promise((r) => setTimeout(() => r(['late']), 500)) },
      { name: 'broken', defaultShare: 0.5, fetch: () => Promise.reject(new Error('boom')) },
      { name: 'down', defaultShare: 0.5, fetch: () => { throw new SourceUnavailableError('ann_unavailable', 'no index'); } },
    ];
    const metrics = new FakeMetrics();
    const gatherer = new CandidateGatherer(sources, Object.assign(new AppConfig(), { FEED_CANDIDATES: 10, FEED_BUDGET_MS: 50 }), metrics as unknown as FeedMetrics);
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

  it('asks each source for its share of FEED_CANDIDATES: the class default, or FEED_SOURCES', async () => {
    const asked: Record<string, number> = {};
    const source = (name: string, defaultShare: number): CandidateSource => ({
      name,
      defaultShare,
      fetch: (c) => {
        asked[name] = c.limit;
        return [];
      },
    });
    const sources = [source('ann', 0.3), source('fresh', 0.1), source('liked-creators', 0.1), source('off-by-default', 0)];
    const config = (FEED_SOURCES: string) => Object.assign(new AppConfig(), { FEED_CANDIDATES: 500, FEED_SOURCES });

    await new CandidateGatherer(sources, config(''), new FakeMetrics() as unknown as FeedMetrics).gather(ctx, new Set());
    // Defaults 0.3 / 0.1 / 0.1 normalised to 0.6 / 0.2 / 0.2 of 500, asked with 20% to spare for the filters.
    expect(asked).toEqual({ ann: 360, fresh: 120, 'liked-creators': 120 });

    for (const k of Object.keys(asked)) delete asked[k];
    await new CandidateGatherer(sources, config('fresh:0, liked-creators:0.3,off-by-default:0.2'), new FakeMetrics() as unknown as FeedMetrics).gather(ctx, new Set());
    expect(asked).toEqual({ ann: 225, 'liked-creators': 225, 'off-by-default': 150 });

    expect(() => new CandidateGatherer(sources, config('anm:0.3'), new FakeMetrics() as unknown as FeedMetrics)).toThrow(
      'FEED_SOURCES names unknown source(s) anm; registered: ann, fresh, liked-creators, off-by-default',
    );
  });
});
