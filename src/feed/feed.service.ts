import { BadRequestException, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { CatalogSnapshotService } from '../catalog/catalog-snapshot.service';
import { CatalogVideo } from '../features/catalog-video';
import { CandidateGatherer } from './candidates/candidate-gatherer';
import { CandidatePool } from './candidates/candidate-pool';
import { UserReads } from './data/feed-state.repository';
import { UserGraph } from './data/user-graph.repository';
import { FeedExplainer, FeedExplanation } from './explain/feed-explainer';
import { TracedCandidatePool } from './explain/traced-candidate-pool';
import { CURSOR_SERVED_MAX, FeedCursor, FeedCursorCodec, InvalidCursorError } from './feed-cursor';
import { FeedFallbackReason, FeedMetrics, FeedStage } from './feed-metrics';
import { CandidateFilter } from './stages/candidate-filter';
import { CandidateScorer } from './stages/candidate-scorer';
import { FeatureHydrator } from './stages/feature-hydrator';
import { FeedSideEffects } from './stages/feed-side-effects';
import { Reranker, RerankOptions, RerankTrace } from './stages/reranker';
import { UserReader } from './stages/user-reader';
import { ImpressionRow } from './support/impression-copy';

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
/** Model version recorded for the pages of users with no history (the popularity order). */
export const COLD_START_VERSION = 'popularity';

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
 * GET /v1/feed, as its stages, each a class of its own (src/feed/stages, sources in
 * src/feed/candidates): read the user -> candidate sources in parallel -> filters ->
 * hydrate stats and features -> score (the RANKER) -> rerank for diversity and
 * exploration -> side effects (impressions, metrics). The page's ids go in its cursor,
 * and the next page's request adds them to the session's served set as it reads it. Each stage is timed;
 * a user with no history gets the popularity order; when Redis is down or slow, the
 * page is a walk down the in-memory trending list.
 */
@Injectable()
export class FeedService {
  constructor(
    private readonly catalog: CatalogSnapshotService,
    private readonly cursors: FeedCursorCodec,
    private readonly users: UserReader,
    private readonly gatherer: CandidateGatherer,
    private readonly filter: CandidateFilter,
    private readonly hydrator: FeatureHydrator,
    private readonly scorer: CandidateScorer,
    private readonly reranker: Reranker,
    private readonly sideEffects: FeedSideEffects,
    private readonly explainer: FeedExplainer,
    private readonly metrics: FeedMetrics,
  ) {}

  async feed(userId: string, query: FeedQuery): Promise<FeedPage> {
    const started = performance.now();
    const now = Date.now();
    const cursor = query.cursor ? this.decodeCursor(query.cursor, userId, now) : null;
    const session = cursor?.session ?? this.cursors.newSession();
    const fallbacks = new Set<FeedFallbackReason>();
    const clock = { at: started };

    const { reads, graph } = await this.users.read(userId, cursor ? session : null, cursor?.served ?? [], fallbacks);
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
    });

    this.sideEffects.served(impressions, fallbacks);
    this.metrics.stage('total', performance.now() - started);
    // This page's ids are stored by the next page's request; while Redis is away, the ones not stored yet are carried on.
    const served = reads ? servedIds : [...(cursor?.served ?? []), ...servedIds].slice(-CURSOR_SERVED_MAX);
    const next: FeedCursor = { session, offset: chosen.nextOffset, issuedAt: now, served };
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
    const ranking = await this.users.rankingUser(reads, graph);
    if (ranking.cold) return this.coldStart(reads, graph, query, ranking.now, fallbacks, clock);
    const { user, follows, history, sequence, context } = ranking;

    const results = await this.gatherer.gather(
      { userId, user, userHasEmbedding: context.userHasEmbedding, follows, history, sequence, now: ranking.now },
      fallbacks,
    );
    this.lap('candidates', clock);

    const pool = this.filter.filter(results, { exclude: query.exclude, graph, seen: reads.seen, served: reads.served, now: ranking.now, explain: query.explain });
    const traced = pool instanceof TracedCandidatePool ? pool : null;
    if (pool.size < query.limit) fallbacks.add('candidates_short');
    this.lap('filter', clock);

    const { stats, slots, columns, groups, fallback: statsFallback } = await this.hydrator.hydrate(pool, now);
    if (statsFallback) fallbacks.add(statsFallback);
    this.lap('hydrate', clock);

    const { result, fallback } = await this.scorer.score({ user: context, videos: pool.videos, stats, columns: { table: columns, slots }, userId });
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
      const { scores, features, width } = this.scorer.picked(result, picks);
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
   * A user with no engaged videos and no follows: no ranker knows anything about them
   * that popularity does not, so the page is the popularity blend in its order (see
   * CatalogListsService.fallback), filtered (watched, served this session, takedowns,
   * blocks, client excludes), without diversity caps or exploration slots.
   */
  private coldStart(reads: UserReads, graph: UserGraph, query: FeedQuery, now: number, fallbacks: Set<FeedFallbackReason>, clock: { at: number }): Chosen {
    const input = { exclude: query.exclude, graph, seen: reads.seen, served: reads.served, now, explain: query.explain };
    const pool = this.filter.coldStart(input, query.limit);
    if (pool.size < query.limit) fallbacks.add('candidates_short');
    const scores = new Float32Array(pool.size);
    for (let i = 0; i < pool.size; i++) scores[i] = 1 - i / pool.size;
    this.lap('candidates', clock);
    // In score order (the blend's), nothing capped.
    const options = { ...this.reranker.options(query.limit), maxPerCreator: query.limit, maxPerCategory: query.limit, explorationSlots: 0 };
    const page = this.listPage(pool, scores, options, COLD_START_VERSION, fallbacks, clock);
    return { ...page, nextOffset: 0 };
  }

  /** A page picked from an ordered list (cold start, degraded): rerank with `options`, no ranker, no feature rows. */
  private listPage(
    pool: CandidatePool,
    scores: Float32Array,
    options: RerankOptions,
    version: string,
    fallbacks: Set<FeedFallbackReason>,
    clock: { at: number },
  ): Omit<Chosen, 'nextOffset'> {
    const traced = pool instanceof TracedCandidatePool ? pool : null;
    const trace = traced ? new RerankTrace() : undefined;
    const picks = this.reranker.rerank({ videos: pool.videos, sources: pool.sources, scores, stats: null }, options, trace);
    this.lap('rerank', clock);
    const explanation =
      traced && trace ? this.explainer.explain({ catalog: this.catalog, pool: traced, results: [], scores, rank: null, version, trace, picks, fallbacks }) : undefined;
    return { videos: pool.videos, sources: pool.sources, picks, scores: Float32Array.from(picks, (i) => scores[i]), version, features: null, width: 0, explanation };
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
    const start = cursor?.offset ?? 0;
    const { pool, listLength } = this.filter.walk(start, query.limit * 5, { exclude: query.exclude, graph, explain: query.explain });
    if (pool.size < query.limit) fallbacks.add('candidates_short');
    const scores = new Float32Array(pool.size);
    for (let i = 0; i < pool.size; i++) scores[i] = 1 - pool.positions[i] / listLength;
    this.lap('candidates', clock);
    const page = this.listPage(pool, scores, this.reranker.options(query.limit), FALLBACK_VERSION, fallbacks, clock);
    return { ...page, nextOffset: page.picks.reduce((m, i) => Math.max(m, pool.positions[i] + 1), start) };
  }

  private decodeCursor(raw: string, userId: string, now: number): FeedCursor {
    try {
      return this.cursors.decode(raw, userId, now);
    } catch (err) {
      if (err instanceof InvalidCursorError) throw new BadRequestException({ message: [`cursor: ${err.message}`], error: 'Bad Request' });
      throw err;
    }
  }

  private lap(stage: FeedStage, clock: { at: number }): void {
    const t = performance.now();
    this.metrics.stage(stage, t - clock.at);
    clock.at = t;
  }
}
