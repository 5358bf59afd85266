import { BadRequestException, Injectable, Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { CatalogSnapshotService } from '../catalog/catalog-snapshot.service';
import { AppConfig } from '../config/app-config';
import { CatalogVideo } from '../features/catalog-video';
import { userContext } from '../features/feature-registry';
import { FeatureClock } from '../features/feature-clock';
import { historyItems, UserHistory } from '../features/item-neighbours';
import { NeighbourIndexService } from '../neighbours/neighbour-index.service';
import { decodeUserState, emptyUserState, UserState } from '../features/user-state';
import { ModelRuntime } from '../ranking/model-runtime.service';
import { CandidateGatherer } from './candidates/candidate-gatherer';
import { CandidateExclusions, CandidatePool } from './candidates/candidate-pool';
import { CatalogListsService } from './data/catalog-lists.service';
import { FeedExplainer, FeedExplanation } from './explain/feed-explainer';
import { TracedCandidatePool } from './explain/traced-candidate-pool';
import { FeedCursor, FeedCursorCodec, InvalidCursorError } from './feed-cursor';
import { FeedFallbackReason, FeedMetrics, FeedStage } from './feed-metrics';
import { FeedStateRepository, UserReads } from './data/feed-state.repository';
import { ImpressionRow } from './support/impression-copy';
import { ImpressionLogger } from './data/impression-logger.service';
import { RedisTimeoutError } from './support/redis-guard';
import { Reranker, RerankTrace } from './stages/reranker';
import { TrendingCacheService } from './data/trending-cache.service';
import { UserGraph, UserGraphRepository } from './data/user-graph.repository';
import { VideoStatsCache } from './data/video-stats-cache';

export interface FeedQuery {
  limit: number;
  cursor?: string;
  exclude: string[];
  /** Admin/demo only: also return why each item was served and what was dropped. */
  explain?: boolean;
}

export interface FeedItem {
  videoId: string;
  creatorId: string;
  category: string;
  title: string;
  durationMs: number;
  score: number;
  source: string;
}

export interface FeedPage {
  requestId: string;
  items: FeedItem[];
  nextCursor: string;
  explain?: FeedExplanation;
}

/** Model version recorded for pages served from the in-memory fallback list. */
export const FALLBACK_VERSION = 'fallback';

const DEGRADATION_LOG_EVERY_MS = 10_000;
/** A video dated this little ahead of the feed's clock (another host's clock) is served anyway. */
const PUBLISH_CLOCK_SKEW_MS = 60_000;

/** The page: `picks` index into videos/sources; scores and feature rows are by page position. */
interface Chosen {
  videos: CatalogVideo[];
  sources: string[];
  picks: number[];
  scores: Float32Array;
  version: string;
  features: Float32Array | null;
  width: number;
  nextOffset: number;
  explanation?: FeedExplanation;
}

/**
 * GET /v1/feed, as its stages: read the user (Redis + cached follows/blocks; blocks
 * always apply, see UserGraphRepository) ->
 * gather candidates from every source in parallel -> filter -> hydrate stats (near
 * cache, misses from Redis) ->
 * rank with the active model -> rerank for diversity and exploration -> remember
 * what was served, log impressions in the background, answer. Each stage is timed;
 * when Redis is down or slow, the page comes from the in-memory fallback list.
 */
@Injectable()
export class FeedService {
  private readonly logger = new Logger(FeedService.name);
  private readonly degradationLogged = new Map<FeedFallbackReason, { at: number; count: number }>();

  constructor(
    private readonly config: AppConfig,
    private readonly catalog: CatalogSnapshotService,
    private readonly lists: CatalogListsService,
    private readonly trending: TrendingCacheService,
    private readonly state: FeedStateRepository,
    private readonly graphs: UserGraphRepository,
    private readonly gatherer: CandidateGatherer,
    private readonly runtime: ModelRuntime,
    private readonly reranker: Reranker,
    private readonly cursors: FeedCursorCodec,
    private readonly impressions: ImpressionLogger,
    private readonly metrics: FeedMetrics,
    private readonly statsCache: VideoStatsCache,
    private readonly explainer: FeedExplainer,
    private readonly neighbours: NeighbourIndexService,
    private readonly clock: FeatureClock,
  ) {}

  async feed(userId: string, query: FeedQuery): Promise<FeedPage> {
    const started = performance.now();
    const now = Date.now();
    const cursor = query.cursor ? this.decodeCursor(query.cursor, userId, now) : null;
    const session = cursor?.session ?? this.cursors.newSession();
    const fallbacks = new Set<FeedFallbackReason>();
    const clock = { at: started };

    const [reads, graph] = await Promise.all([
      this.state.readUser(userId, cursor ? session : null).catch((err: Error) => {
        fallbacks.add(err instanceof RedisTimeoutError ? 'redis_timeout' : 'redis_unavailable');
        return null;
      }),
      this.graphs.get(userId, this.config.FEED_BUDGET_MS),
    ]);
    if (!graph.complete) fallbacks.add('user_graph_unavailable');
    this.lap('user', clock);

    const chosen = reads
      ? await this.personalised(userId, reads, graph, query, now, fallbacks, clock)
      : this.degraded(graph, query, cursor, fallbacks, clock);

    const requestId = randomUUID();
    const items: FeedItem[] = [];
    const impressions: ImpressionRow[] = [];
    const servedIds: string[] = [];
    const width = chosen.width;
    chosen.picks.forEach((i, position) => {
      const v = chosen.videos[i];
      const score = Math.round(chosen.scores[position] * 1e6) / 1e6;
      const source = chosen.sources[i];
      items.push({ videoId: v.id, creatorId: v.creatorId, category: v.category, title: v.title, durationMs: v.durationMs, score, source });
      servedIds.push(v.id);
      impressions.push({
        requestId,
        userId,
        videoId: v.id,
        position,
        source,
        score,
        modelVersion: chosen.version,
        features: chosen.features ? chosen.features.subarray(position * width, (position + 1) * width) : null,
        servedAt: now,
      });
      this.metrics.itemServed(source);
    });

    if (reads) {
      await this.state.rememberServed(userId, session, servedIds).catch(() => fallbacks.add('served_write_failed'));
    }
    this.lap('remember', clock);
    this.impressions.log(impressions);
    this.reportFallbacks(fallbacks);
    this.metrics.stage('total', performance.now() - started);
    const next: FeedCursor = { session, offset: chosen.nextOffset, issuedAt: now };
    const page: FeedPage = { requestId, items, nextCursor: this.cursors.encode(next, userId) };
    if (chosen.explanation) page.explain = chosen.explanation;
    return page;
  }

  private async personalised(
    userId: string,
    reads: UserReads,
    graph: UserGraph,
    query: FeedQuery,
    now: number,
    fallbacks: Set<FeedFallbackReason>,
    clock: { at: number },
  ): Promise<Chosen> {
    const user = this.decodeUser(reads.state);
    const follows = graph.follows?.size ? new Set([...user.follows, ...graph.follows]) : new Set(user.follows);
    const history = this.history(user);
    const featureNow = this.clock.now();
    const uctx = { ...userContext(user, featureNow, history, this.historyKey), follows };

    const results = await this.gatherer.gather(
      { userId, user, userHasEmbedding: uctx.userHasEmbedding, follows, history, now: featureNow },
      fallbacks,
    );
    this.lap('candidates', clock);

    const max = this.config.FEED_CANDIDATES;
    const exclusions = this.exclusions(query, graph, reads.seen, reads.served, featureNow);
    const traced = query.explain ? new TracedCandidatePool(this.catalog, exclusions, max) : null;
    const pool = traced ?? new CandidatePool(this.catalog, exclusions, max);
    pool.offerRoundRobin(results);
    if (!pool.full) pool.fill(this.catalog.ordinalsOf(this.lists.fallback), 'popular', max * 4);
    if (!pool.full) pool.fill(this.catalog.ordinalsOf(this.lists.current.fresh), 'fresh', max * 4);
    if (pool.size < query.limit) fallbacks.add('candidates_short');
    this.lap('filter', clock);

    const { stats, slots, columns, error } = await this.statsCache.hydrate(pool, now);
    if (error) fallbacks.add(error instanceof RedisTimeoutError ? 'redis_timeout' : 'redis_unavailable');
    // The reranker's creator and category caps count interned numbers, read now, with the rows.
    const groups = { creators: new Int32Array(slots.length), categories: new Int32Array(slots.length) };
    for (let i = 0; i < slots.length; i++) {
      groups.creators[i] = columns.creators[slots[i]];
      groups.categories[i] = columns.categories[slots[i]];
    }
    this.lap('hydrate', clock);

    const { result, fallback } = await this.runtime.rank({ user: uctx, videos: pool.videos, stats, columns: { table: columns, slots }, userId });
    if (fallback) fallbacks.add(fallback);
    this.lap('rank', clock);

    try {
      const trace = traced ? new RerankTrace() : undefined;
      const picks = this.reranker.rerank(
        { videos: pool.videos, sources: pool.sources, scores: result.scores, stats, groups },
        this.reranker.options(query.limit),
        trace,
      );
      this.lap('rerank', clock);
      const width = result.width;
      // Copy what outlives the ranker's pooled buffers: the picked items' scores and feature rows.
      const scores = new Float32Array(picks.length);
      const features = new Float32Array(picks.length * width);
      picks.forEach((i, k) => {
        scores[k] = result.scores[i];
        features.set(result.features.subarray(i * width, (i + 1) * width), k * width);
      });
      const explanation =
        traced && trace
          ? this.explainer.explain({ catalog: this.catalog, pool: traced, results, scores: result.scores, rank: result, version: result.version, trace, picks, fallbacks })
          : undefined;
      return { videos: pool.videos, sources: pool.sources, picks, scores, version: result.version, features, width, nextOffset: 0, explanation };
    } finally {
      result.release();
    }
  }

  /**
   * Redis is down or slow: no user state, no seen/served sets, no stats. The page is a
   * walk down the in-memory trending (or popularity) list from the cursor's offset,
   * still filtered (takedowns, blocks, client excludes) and diversified.
   */
  private degraded(
    graph: UserGraph,
    query: FeedQuery,
    cursor: FeedCursor | null,
    fallbacks: Set<FeedFallbackReason>,
    clock: { at: number },
  ): Chosen {
    const trending = this.trending.ids;
    const [list, label] = trending.length > 0 ? [trending, 'trending'] : [this.lists.fallback, 'popular'];
    const start = cursor?.offset ?? 0;
    const exclusions = this.exclusions(query, graph, [], [], this.clock.now());
    const max = query.limit * 5;
    const traced = query.explain ? new TracedCandidatePool(this.catalog, exclusions, max) : null;
    const pool = traced ?? new CandidatePool(this.catalog, exclusions, max);
    pool.fill(this.catalog.ordinalsOf(list), label, list.length, start);
    if (pool.size < query.limit) fallbacks.add('candidates_short');
    const scores = new Float32Array(pool.size);
    for (let i = 0; i < pool.size; i++) scores[i] = 1 - pool.positions[i] / list.length;
    this.lap('candidates', clock);
    const trace = traced ? new RerankTrace() : undefined;
    const picks = this.reranker.rerank({ videos: pool.videos, sources: pool.sources, scores, stats: null }, this.reranker.options(query.limit), trace);
    this.lap('rerank', clock);
    const explanation =
      traced && trace
        ? this.explainer.explain({ catalog: this.catalog, pool: traced, results: [], scores, rank: null, version: FALLBACK_VERSION, trace, picks, fallbacks })
        : undefined;
    const nextOffset = picks.reduce((m, i) => Math.max(m, pool.positions[i] + 1), start);
    return {
      videos: pool.videos,
      sources: pool.sources,
      picks,
      scores: Float32Array.from(picks, (i) => scores[i]),
      version: FALLBACK_VERSION,
      features: null,
      width: 0,
      nextOffset,
      explanation,
    };
  }

  private exclusions(
    query: FeedQuery,
    graph: UserGraph,
    seen: readonly string[],
    served: readonly string[],
    now: number,
  ): CandidateExclusions {
    return { seen, served, exclude: query.exclude, blockedCreators: graph.blocked, publishedBy: now + PUBLISH_CLOCK_SKEW_MS };
  }

  private decodeCursor(raw: string, userId: string, now: number): FeedCursor {
    try {
      return this.cursors.decode(raw, userId, now);
    } catch (err) {
      if (err instanceof InvalidCursorError) throw new BadRequestException({ message: [`cursor: ${err.message}`], error: 'Bad Request' });
      throw err;
    }
  }

  /** The user's recent videos against the loaded item neighbours, keyed by catalog ordinal. */
  private history(user: UserState): UserHistory | null {
    const index = this.neighbours.index;
    if (!index || user.recent.length === 0) return null;
    return new UserHistory(
      index,
      historyItems(user.recent, (id) => {
        const key = this.catalog.findOrdinal(id);
        const video = key >= 0 ? this.catalog.videoAt(key) : undefined;
        return video ? { key, category: video.category, creatorId: video.creatorId } : null;
      }),
    );
  }

  private readonly historyKey = (video: CatalogVideo): number => this.catalog.findOrdinal(video.id);

  private decodeUser(raw: string | null): UserState {
    try {
      return decodeUserState(raw, this.config.EMBEDDING_DIM);
    } catch {
      this.logger.warn('unreadable user state in Redis: serving as a new user');
      return emptyUserState(this.config.EMBEDDING_DIM);
    }
  }

  private lap(stage: FeedStage, clock: { at: number }): void {
    const t = performance.now();
    this.metrics.stage(stage, t - clock.at);
    clock.at = t;
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
