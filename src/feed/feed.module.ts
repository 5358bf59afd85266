import { Module } from '@nestjs/common';
import { CatalogModule } from '../catalog/catalog.module';
import { FeatureClock } from '../features/feature-clock';
import { NeighboursModule } from '../neighbours/neighbours.module';
import { RankingModule } from '../ranking/ranking.module';
import { AnnIndexService } from './ann/ann-index.service';
import { AnnSource } from './candidates/ann.source';
import { CategoryAffinitySource } from './candidates/category-affinity.source';
import { CandidateGatherer } from './candidates/candidate-gatherer';
import { CANDIDATE_SOURCES, CandidateSource } from './candidates/candidate-source';
import { ExplorationSource } from './candidates/exploration.source';
import { FollowedCreatorsSource } from './candidates/followed-creators.source';
import { FreshSource } from './candidates/fresh.source';
import { ItemToItemSource } from './candidates/item-to-item.source';
import { PopularSource } from './candidates/popular.source';
import { TrendingSource } from './candidates/trending.source';
import { CatalogListsService } from './data/catalog-lists.service';
import { FeedExplainer } from './explain/feed-explainer';
import { FeedCursorCodec } from './feed-cursor';
import { FeedMetrics } from './feed-metrics';
import { FeedStateRepository } from './data/feed-state.repository';
import { FeedController } from './feed.controller';
import { FeedService } from './feed.service';
import { ImpressionLogger } from './data/impression-logger.service';
import { Reranker } from './stages/reranker';
import { TrendingCacheService } from './data/trending-cache.service';
import { UserGraphRepository } from './data/user-graph.repository';
import { VideoStatsCache } from './data/video-stats-cache';

/** The candidate sources, in priority order (an id found by several is credited to the first). */
const SOURCES = [
  ItemToItemSource,
  AnnSource,
  TrendingSource,
  PopularSource,
  CategoryAffinitySource,
  FollowedCreatorsSource,
  FreshSource,
  ExplorationSource,
];

@Module({
  imports: [CatalogModule, RankingModule, NeighboursModule],
  controllers: [FeedController],
  providers: [
    ...SOURCES,
    { provide: CANDIDATE_SOURCES, inject: SOURCES, useFactory: (...sources: CandidateSource[]) => sources },
    AnnIndexService,
    CatalogListsService,
    TrendingCacheService,
    FeedStateRepository,
    UserGraphRepository,
    VideoStatsCache,
    CandidateGatherer,
    Reranker,
    FeedCursorCodec,
    FeedMetrics,
    ImpressionLogger,
    FeedExplainer,
    FeedService,
    FeatureClock,
  ],
  exports: [FeatureClock],
})
export class FeedModule {}
