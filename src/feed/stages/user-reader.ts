import { Injectable, Logger } from '@nestjs/common';
import { CatalogSnapshotService } from '../../catalog/catalog-snapshot.service';
import { AppConfig } from '../../config/app-config';
import { CatalogVideo } from '../../features/catalog-video';
import { FeatureClock } from '../../features/feature-clock';
import { userContext, UserContext } from '../../features/feature-registry';
import { historyItems, UserHistory } from '../../features/item-neighbours';
import { decodeUserState, emptyUserState, UserState } from '../../features/user-state';
import { NeighbourIndexService } from '../../neighbours/neighbour-index.service';
import { SequenceScores } from '../../features/sequence-scores';
import { SequenceIndexService } from '../../sequence/sequence-index.service';
import { FeedStateRepository, UserReads } from '../data/feed-state.repository';
import { UserGraph, UserGraphRepository } from '../data/user-graph.repository';
import { FeedFallbackReason } from '../feed-metrics';
import { RedisTimeoutError } from '../support/redis-guard';

/** What the feed read about the user: online state and seen/served sets (null when Redis failed), follows and blocks. */
export interface FeedUserReads {
  reads: UserReads | null;
  graph: UserGraph;
}

/** The user as the sources and the ranker see them. */
export interface RankingUser {
  user: UserState;
  follows: Set<string>;
  history: UserHistory | null;
  /** The sequence model's encoding of the user's recent engagement (null without a model). */
  sequence: SequenceScores | null;
  /** The feature clock's now, shared by the sources, the filters and the features of one request. */
  now: number;
  /** No engaged videos and no follows: nothing personal to rank with yet (served the popularity order). */
  cold: boolean;
  context: UserContext & { follows: Set<string> };
}

/** Feed stage 0: reads the user (Redis, cached follows and blocks) and builds the user the later stages see. */
@Injectable()
export class UserReader {
  private readonly logger = new Logger(UserReader.name);

  constructor(
    private readonly config: AppConfig,
    private readonly state: FeedStateRepository,
    private readonly graphs: UserGraphRepository,
    private readonly catalog: CatalogSnapshotService,
    private readonly neighbours: NeighbourIndexService,
    private readonly sequences: SequenceIndexService,
    private readonly clock: FeatureClock,
  ) {}

  /**
   * Blocks always apply (see UserGraphRepository); a failed Redis read is a fallback, not an
   * error. `carried`: the previous page's ids, stored in the session's served set first.
   */
  async read(userId: string, sessionId: string | null, carried: readonly string[], fallbacks: Set<FeedFallbackReason>): Promise<FeedUserReads> {
    const [reads, graph] = await Promise.all([
      this.state.readUser(userId, sessionId, carried).catch((err: Error) => {
        fallbacks.add(err instanceof RedisTimeoutError ? 'redis_timeout' : 'redis_unavailable');
        return null;
      }),
      this.graphs.get(userId, this.config.FEED_BUDGET_MS),
    ]);
    if (!graph.complete) fallbacks.add('user_graph_unavailable');
    return { reads, graph };
  }

  async rankingUser(reads: UserReads, graph: UserGraph): Promise<RankingUser> {
    const user = this.decodeUser(reads.state);
    const follows = graph.follows?.size ? new Set([...user.follows, ...graph.follows]) : new Set(user.follows);
    const history = this.history(user);
    const sequence = await this.sequence(user);
    const now = this.clock.now();
    const cold = user.recent.length === 0 && follows.size === 0;
    return { user, follows, history, sequence, now, cold, context: { ...userContext(user, now, history, this.historyKey, sequence), follows } };
  }

  /** One encoder inference over the user's recent engagement; a failure ranks without it (logged), never fails the feed. */
  private async sequence(user: UserState): Promise<SequenceScores | null> {
    try {
      return await this.sequences.forUser(user);
    } catch (err) {
      this.logger.warn(`sequence encoder failed, ranking without it: ${(err as Error).message}`);
      return null;
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

  private decodeUser(raw: Buffer | null): UserState {
    try {
      return decodeUserState(raw, this.config.EMBEDDING_DIM);
    } catch {
      this.logger.warn('unreadable user state in Redis: serving as a new user');
      return emptyUserState(this.config.EMBEDDING_DIM);
    }
  }
}
