import { Injectable } from '@nestjs/common';
import { CatalogSnapshotService } from '../../catalog/catalog-snapshot.service';
import { AppConfig } from '../../config/app-config';
import { FeatureClock } from '../../features/feature-clock';
import { SourceResult } from '../candidates/candidate-gatherer';
import { CandidateExclusions, CandidatePool } from '../candidates/candidate-pool';
import { CatalogListsService } from '../data/catalog-lists.service';
import { TrendingCacheService } from '../data/trending-cache.service';
import { UserGraph } from '../data/user-graph.repository';
import { TracedCandidatePool } from '../explain/traced-candidate-pool';

/** A video dated this little ahead of the feed's clock (another host's clock) is served anyway. */
const PUBLISH_CLOCK_SKEW_MS = 60_000;

/** What the user must not see: watched, served this session, excluded by the client, blocked creators. */
export interface FilterInput {
  exclude: readonly string[];
  graph: UserGraph;
  seen: readonly string[];
  served: readonly string[];
  /** Feature-clock time: later-dated videos are not published yet. */
  now: number;
  /** Explain requests: record who found each candidate and why each dropped one was dropped. */
  explain?: boolean;
}

/**
 * Feed stage 2: filters. Takes the sources' candidates round-robin into a pool that keeps
 * only what the user may see (CandidatePool), topped up from popularity then fresh
 * uploads; for a user with no history, walks the popularity blend; or, with Redis down,
 * walks the in-memory trending (or popularity) list.
 */
@Injectable()
export class CandidateFilter {
  constructor(
    private readonly config: AppConfig,
    private readonly catalog: CatalogSnapshotService,
    private readonly lists: CatalogListsService,
    private readonly trending: TrendingCacheService,
    private readonly clock: FeatureClock,
  ) {}

  /** Up to FEED_CANDIDATES candidates from the sources' results. */
  filter(results: SourceResult[], input: FilterInput): CandidatePool {
    const max = this.config.FEED_CANDIDATES;
    const pool = this.pool(input, max);
    pool.offerRoundRobin(results);
    const popular = this.lists.fallback;
    if (!pool.full) pool.fill(this.catalog.ordinalsOf(popular.ids), popular.sources, max * 4);
    if (!pool.full) pool.fill(this.catalog.ordinalsOf(this.lists.current.fresh), 'fresh', max * 4);
    return pool;
  }

  /** A user with no history: the first `max` videos of the popularity blend they may see, in its order, then fresh uploads. */
  coldStart(input: FilterInput, max: number): CandidatePool {
    const pool = this.pool(input, max);
    const popular = this.lists.fallback;
    pool.fill(this.catalog.ordinalsOf(popular.ids), popular.sources);
    if (!pool.full) pool.fill(this.catalog.ordinalsOf(this.lists.current.fresh), 'fresh');
    return pool;
  }

  /**
   * Redis is down or slow: up to `max` candidates walking the trending (or popularity)
   * list from `start`, still filtered (takedowns, blocks, client excludes).
   */
  walk(start: number, max: number, input: Omit<FilterInput, 'seen' | 'served' | 'now'>): { pool: CandidatePool; listLength: number } {
    const trending = this.trending.ids;
    const [list, label] = trending.length > 0 ? [trending, 'trending'] : [this.lists.fallback.ids, this.lists.fallback.sources];
    const pool = this.pool({ ...input, seen: [], served: [], now: this.clock.now() }, max);
    pool.fill(this.catalog.ordinalsOf(list), label, list.length, start);
    return { pool, listLength: list.length };
  }

  private pool(input: FilterInput, max: number): CandidatePool {
    const exclusions: CandidateExclusions = {
      seen: input.seen,
      served: input.served,
      exclude: input.exclude,
      blockedCreators: input.graph.blocked,
      publishedBy: input.now + PUBLISH_CLOCK_SKEW_MS,
    };
    return input.explain ? new TracedCandidatePool(this.catalog, exclusions, max) : new CandidatePool(this.catalog, exclusions, max);
  }
}
