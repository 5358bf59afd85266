import { Module } from '@nestjs/common';
import { CatalogModule } from '../catalog/catalog.module';
import { FeatureClock } from '../features/feature-clock';
import { NeighboursModule } from '../neighbours/neighbours.module';
import { SequenceModule } from '../sequence/sequence.module';
import { ModelRuntime } from '../ranking/model-runtime.service';
import { RANKER } from '../ranking/ranker';
import { RankingModule } from '../ranking/ranking.module';
import { AnnIndexService } from './ann/ann-index.service';
import { NEAREST_VIDEOS } from './ann/nearest-videos';
import { AnnSource } from './candidates/ann.source';
import { CandidateGatherer } from './candidates/candidate-gatherer';
import { CANDIDATE_SOURCES, CandidateSource } from './candidates/candidate-source';
import { CategoryAffinitySource } from './candidates/category-affinity.source';
import { ExplorationSource } from './candidates/exploration.source';
import { FollowedCreatorsSource } from './candidates/followed-creators.source';
import { FreshSource } from './candidates/fresh.source';
import { ItemToItemSource } from './candidates/item-to-item.source';
import { Popular30dSource } from './candidates/popular-30d.source';
import { PopularSource } from './candidates/popular.source';
import { SequenceSource } from './candidates/sequence.source';
import { TrendingSource } from './candidates/trending.source';
import { CatalogListsService } from './data/catalog-lists.service';
import { FeedStateRepository } from './data/feed-state.repository';
import { ImpressionLogger } from './data/impression-logger.service';
import { ImpressionRepository } from './data/impression.repository';
import { TrendingCacheService } from './data/trending-cache.service';
import { TrendingRepository } from './data/trending.repository';
import { UserGraphRepository } from './data/user-graph.repository';
import { VideoStatsCache } from './data/video-stats-cache';
import { FeedExplainer } from './explain/feed-explainer';
import { FeedCursorCodec } from './feed-cursor';
import { FeedMetrics } from './feed-metrics';
import { FeedController } from './feed.controller';
import { FeedService } from './feed.service';
import { CandidateFilter } from './stages/candidate-filter';
import { CandidateScorer } from './stages/candidate-scorer';
import { FeatureHydrator } from './stages/feature-hydrator';
import { FeedSideEffects } from './stages/feed-side-effects';
import { Reranker } from './stages/reranker';
import { UserReader } from './stages/user-reader';

/** The candidate sources, in priority order (an id found by several is credited to the first). */
const SOURCES = [
  ItemToItemSource,
  SequenceSource,
  AnnSource,
  TrendingSource,
  Popular30dSource,
  PopularSource,
  CategoryAffinitySource,
  FollowedCreatorsSource,
  FreshSource,
  ExplorationSource,
];

/**
 * The feed's stages, in request order (FeedService runs them). A fork replaces one by
 * providing its own class under the same token, e.g. `{ provide: Reranker, useClass: MyReranker }`.
 */
const STAGES = [UserReader, CandidateGatherer, CandidateFilter, FeatureHydrator, CandidateScorer, Reranker, FeedSideEffects];

@Module({
  imports: [CatalogModule, RankingModule, NeighboursModule, SequenceModule],
  controllers: [FeedController],
  providers: [
    ...SOURCES,
    { provide: CANDIDATE_SOURCES, inject: SOURCES, useFactory: (...sources: CandidateSource[]) => sources },
    ...STAGES,
    // What the scorer stage ranks with: bind another FeedRanker here to rank with something else.
    { provide: RANKER, useExisting: ModelRuntime },
    AnnIndexService,
    // What the ann source searches: bind a vector engine's client here (see NearestVideos).
    { provide: NEAREST_VIDEOS, useExisting: AnnIndexService },
    CatalogListsService,
    TrendingRepository,
    TrendingCacheService,
    FeedStateRepository,
    UserGraphRepository,
    VideoStatsCache,
    ImpressionRepository,
    ImpressionLogger,
    FeedCursorCodec,
    FeedMetrics,
    FeedExplainer,
    FeedService,
    FeatureClock,
  ],
  exports: [FeatureClock],
})
export class FeedModule {}
