import { videoIdHash } from '../catalog/video-id-hash';
import { BadRequestException } from '@nestjs/common';
import { CatalogSnapshotService } from '../catalog/catalog-snapshot.service';
import { AppConfig } from '../config/app-config';
import { CatalogVideo } from '../features/catalog-video';
import { emptyUserState } from '../features/user-state';
import { emptyVideoStats } from '../features/video-stats';
import { RankFallbackReason, RankRequest, RankResult } from '../ranking/ranker';
import { CandidateGatherer, SourceResult } from './candidates/candidate-gatherer';
import { CandidatePool, PoolCatalog } from './candidates/candidate-pool';
import { UserGraph } from './data/user-graph.repository';
import { FeedExplainer } from './explain/feed-explainer';
import { FeedCursorCodec } from './feed-cursor';
import { FeedFallbackReason, FeedMetrics } from './feed-metrics';
import { COLD_START_VERSION, FALLBACK_VERSION, FeedService } from './feed.service';
import { CandidateFilter, FilterInput } from './stages/candidate-filter';
import { CandidateScorer } from './stages/candidate-scorer';
import { FeatureHydrator, HydratedCandidates } from './stages/feature-hydrator';
import { FeedSideEffects } from './stages/feed-side-effects';
import { Reranker, RerankInput, RerankOptions } from './stages/reranker';
import { FeedUserReads, UserReader } from './stages/user-reader';
import { ImpressionRow } from './support/impression-copy';

const video = (n: number): CatalogVideo => ({
  id: `v${n}`,
  creatorId: `c${n}`,
  title: `Video ${n}`,
  category: 'cooking',
  tags: [],
  durationMs: 1000,
  createdAt: 0,
  embedding: null,
  active: true,
});
const VIDEOS = Array.from({ length: 6 }, (_, i) => video(i));
const catalog: PoolCatalog = {
  findOrdinal: (id) => VIDEOS.findIndex((v) => v.id === id),
  videoAt: (ordinal) => VIDEOS[ordinal],
  isActive: () => true,
  activeCreatedAt: (ordinal) => VIDEOS[ordinal].createdAt,
  idHashAt: (ordinal) => videoIdHash(VIDEOS[ordinal].id),
  touch: () => undefined,
};
const graph: UserGraph = { follows: new Set(), blocked: new Set(), complete: true } as unknown as UserGraph;

/** Fakes for every stage, recording the order they ran in and what they were handed. */
class Stages {
  calls: string[] = [];
  userReads: FeedUserReads = { reads: { state: null, seen: ['v5'], served: [] } as unknown as FeedUserReads['reads'], graph };
  /** Whether the user reader finds no history (see RankingUser.cold). */
  cold = false;
  sourceResults: SourceResult[] = [{ source: 'ann', ids: ['v0', 'v1', 'v2', 'v3'] }];
  filterInput: FilterInput | null = null;
  hydrateFallback: HydratedCandidates['fallback'] = null;
  rankFallback: RankFallbackReason | null = null;
  rankRequest: RankRequest | null = null;
  released = false;
  rerankInput: RerankInput | null = null;
  rerankOptions: RerankOptions | null = null;
  /** The reranker's page: indices into the pool, in page order. */
  picks = [2, 0];
  /** The ids each user read was handed to store (the previous page's, from its cursor). */
  carried: (readonly string[])[] = [];
  readonly cursors = new FeedCursorCodec(Object.assign(new AppConfig(), { JWT_SECRET: 'test-secret' }));
  served: { impressions: ImpressionRow[]; fallbacks: FeedFallbackReason[] } | null = null;

  service(): FeedService {
    const users = {
      read: async (_user: string, _session: string | null, carried: readonly string[]) => (this.calls.push('user'), this.carried.push(carried), this.userReads),
      rankingUser: () => ({ user: emptyUserState(4), follows: new Set<string>(), history: null, now: 1000, cold: this.cold, context: { userHasEmbedding: false } }),
    } as unknown as UserReader;
    const gatherer = { gather: async () => (this.calls.push('sources'), this.sourceResults) } as unknown as CandidateGatherer;
    const filter = {
      filter: (results: SourceResult[], input: FilterInput) => {
        this.calls.push('filter');
        this.filterInput = input;
        const pool = new CandidatePool(catalog, { seen: input.seen, served: input.served, exclude: input.exclude, blockedCreators: new Set(), publishedBy: Infinity }, 10);
        pool.offerRoundRobin(results);
        return pool;
      },
      coldStart: (input: FilterInput, max: number) => {
        this.calls.push('cold start');
        this.filterInput = input;
        const pool = new CandidatePool(catalog, { seen: input.seen, served: input.served, exclude: input.exclude, blockedCreators: new Set(), publishedBy: Infinity }, max);
        pool.fill(['v3', 'v1', 'v0', 'v2'], ['popular_30d', 'popular', 'popular_30d', 'popular']);
        return pool;
      },
      walk: (start: number, max: number) => {
        this.calls.push('walk');
        const pool = new CandidatePool(catalog, { seen: [], served: [], exclude: [], blockedCreators: new Set(), publishedBy: Infinity }, max);
        pool.fill(VIDEOS.map((v) => v.id), 'trending', VIDEOS.length, start);
        return { pool, listLength: VIDEOS.length };
      },
    } as unknown as CandidateFilter;
    const hydrator = {
      hydrate: async (pool: CandidatePool) => {
        this.calls.push('hydrate');
        return {
          stats: pool.videos.map(() => emptyVideoStats()),
          slots: new Int32Array(pool.size),
          columns: {},
          groups: { creators: new Int32Array(pool.size), categories: new Int32Array(pool.size) },
          error: null,
          fallback: this.hydrateFallback,
        };
      },
    } as unknown as FeatureHydrator;
    const scorer = new CandidateScorer({
      rank: async (request: RankRequest) => {
        this.calls.push('score');
        this.rankRequest = request;
        const n = request.videos.length;
        const result: RankResult = {
          scores: Float32Array.from({ length: n }, (_, i) => 0.1 * (i + 1) + 1e-8),
          features: Float32Array.from({ length: n * 2 }, (_, i) => i),
          width: 2,
          version: 'm-test',
          computeMs: 0,
          release: () => (this.released = true),
        };
        return { result, fallback: this.rankFallback };
      },
    });
    const reranker = {
      options: (limit: number) => ({ limit }),
      rerank: (input: RerankInput, options: RerankOptions) => {
        this.calls.push('rerank');
        this.rerankInput = input;
        this.rerankOptions = options;
        return this.picks.filter((i) => i < input.videos.length);
      },
    } as unknown as Reranker;
    const sideEffects = {
      served: (impressions: ImpressionRow[], fallbacks: Set<FeedFallbackReason>) => {
        this.calls.push('side effects');
        this.served = { impressions, fallbacks: [...fallbacks] };
      },
    } as unknown as FeedSideEffects;
    const metrics = { stage: () => undefined } as unknown as FeedMetrics;
    return new FeedService(
      catalog as unknown as CatalogSnapshotService,
      this.cursors,
      users,
      gatherer,
      filter,
      hydrator,
      scorer,
      reranker,
      sideEffects,
      {} as FeedExplainer,
      metrics,
    );
  }
}

describe(FeedService.name, () => {
  it('runs the stages in order and serves the reranker’s picks with their scores and feature rows', async () => {
    const stages = new Stages();
    const page = await stages.service().feed('u1', { limit: 2, exclude: ['v4'] });

    expect(stages.calls).toEqual(['user', 'sources', 'filter', 'hydrate', 'score', 'rerank', 'side effects']);
    expect(stages.filterInput).toMatchObject({ exclude: ['v4'], seen: ['v5'], served: [], now: 1000 });
    expect(stages.rankRequest!.videos.map((v) => v.id)).toEqual(['v0', 'v1', 'v2', 'v3']);
    expect(stages.rankRequest!.userId).toBe('u1');
    expect(page.items.map((i) => [i.videoId, i.score, i.source])).toEqual([
      ['v2', 0.3, 'ann'],
      ['v0', 0.1, 'ann'],
    ]);
    expect(stages.cursors.decode(page.nextCursor, 'u1').served).toEqual(['v2', 'v0']);
    expect(stages.served!.impressions.map((r) => [r.videoId, r.position, r.modelVersion, Array.from(r.features!)])).toEqual([
      ['v2', 0, 'm-test', [4, 5]],
      ['v0', 1, 'm-test', [0, 1]],
    ]);
    expect(stages.served!.impressions.every((r) => r.requestId === page.requestId && r.userId === 'u1')).toBe(true);
    expect(stages.served!.fallbacks).toEqual([]);
    expect(stages.released).toBe(true);
  });

  it('passes on what each stage fell back on', async () => {
    const stages = new Stages();
    stages.hydrateFallback = 'redis_timeout';
    stages.rankFallback = 'no_model';
    await stages.service().feed('u1', { limit: 2, exclude: [] });
    expect(stages.served!.fallbacks.sort()).toEqual(['no_model', 'redis_timeout']);
  });

  it('still serves the model’s personalised page when only some candidates’ stats were unreadable, reporting the partial fallback', async () => {
    const stages = new Stages();
    stages.hydrateFallback = 'video_stats_partial';
    const page = await stages.service().feed('u1', { limit: 2, exclude: [] });
    expect(stages.calls).toEqual(['user', 'sources', 'filter', 'hydrate', 'score', 'rerank', 'side effects']);
    expect(page.items.map((i) => i.videoId)).toEqual(['v2', 'v0']);
    expect(stages.served!.impressions.map((r) => r.modelVersion)).toEqual(['m-test', 'm-test']);
    expect(stages.cursors.decode(page.nextCursor, 'u1').served).toEqual(['v2', 'v0']);
    expect(stages.served!.fallbacks).toEqual(['video_stats_partial']);
  });

  it('reports a short page of candidates', async () => {
    const stages = new Stages();
    stages.sourceResults = [{ source: 'ann', ids: ['v0'] }];
    stages.picks = [0];
    const page = await stages.service().feed('u1', { limit: 2, exclude: [] });
    expect(page.items.map((i) => i.videoId)).toEqual(['v0']);
    expect(stages.served!.fallbacks).toEqual(['candidates_short']);
  });

  it('serves a user with no history the popularity order, filtered, without sources, ranker or diversity caps', async () => {
    const stages = new Stages();
    stages.cold = true;
    stages.picks = [0, 1, 2];
    const page = await stages.service().feed('u1', { limit: 3, exclude: ['v4'] });

    expect(stages.calls).toEqual(['user', 'cold start', 'rerank', 'side effects']);
    expect(stages.filterInput).toMatchObject({ exclude: ['v4'], seen: ['v5'], served: [], now: 1000 });
    // Scores fall with the popularity order, and nothing is capped or inserted.
    expect(Array.from(stages.rerankInput!.scores)).toEqual([1, expect.closeTo(2 / 3, 6), expect.closeTo(1 / 3, 6)]);
    expect(stages.rerankOptions).toMatchObject({ limit: 3, maxPerCreator: 3, maxPerCategory: 3, explorationSlots: 0 });
    expect(page.items.map((i) => [i.videoId, i.source])).toEqual([
      ['v3', 'popular_30d'],
      ['v1', 'popular'],
      ['v0', 'popular_30d'],
    ]);
    expect(stages.cursors.decode(page.nextCursor, 'u1').served).toEqual(['v3', 'v1', 'v0']);
    expect(stages.served!.impressions.map((r) => [r.modelVersion, r.features])).toEqual([
      [COLD_START_VERSION, null],
      [COLD_START_VERSION, null],
      [COLD_START_VERSION, null],
    ]);
  });

  it('walks the in-memory list when the user could not be read, without scoring, and pages on from the cursor, carrying the ids not stored', async () => {
    const stages = new Stages();
    stages.userReads = { reads: null, graph };
    stages.picks = [1, 0];
    const service = stages.service();
    const first = await service.feed('u1', { limit: 2, exclude: [] });

    expect(stages.calls).toEqual(['user', 'walk', 'rerank', 'side effects']);
    expect(stages.rerankInput!.stats).toBeNull();
    expect(first.items.map((i) => [i.videoId, i.score, i.source])).toEqual([
      ['v1', Math.round((1 - 1 / 6) * 1e6) / 1e6],
      ['v0', 1],
    ].map(([id, score]) => [id, score, 'trending']));
    expect(stages.served!.impressions.map((r) => [r.modelVersion, r.features])).toEqual([
      [FALLBACK_VERSION, null],
      [FALLBACK_VERSION, null],
    ]);
    expect(stages.cursors.decode(first.nextCursor, 'u1').served).toEqual(['v1', 'v0']);

    stages.calls = [];
    const second = await service.feed('u1', { limit: 2, exclude: [], cursor: first.nextCursor });
    expect(second.items.map((i) => i.videoId)).toEqual(['v3', 'v2']);
    expect(stages.carried).toEqual([[], ['v1', 'v0']]);
    // Redis still away: the first page's ids were not stored, so they go on with the second's.
    expect(stages.cursors.decode(second.nextCursor, 'u1').served).toEqual(['v1', 'v0', 'v3', 'v2']);

    stages.userReads = new Stages().userReads;
    const third = await service.feed('u1', { limit: 2, exclude: [], cursor: second.nextCursor });
    expect(stages.carried[2]).toEqual(['v1', 'v0', 'v3', 'v2']);
    expect(stages.cursors.decode(third.nextCursor, 'u1').served).toEqual(third.items.map((i) => i.videoId));
  });

  it('answers 400 for a cursor it did not issue to this user', async () => {
    const stages = new Stages();
    const service = stages.service();
    const page = await service.feed('u1', { limit: 2, exclude: [] });
    await expect(service.feed('u2', { limit: 2, exclude: [], cursor: page.nextCursor })).rejects.toBeInstanceOf(BadRequestException);
    await expect(service.feed('u1', { limit: 2, exclude: [], cursor: 'garbage' })).rejects.toBeInstanceOf(BadRequestException);
  });
});
