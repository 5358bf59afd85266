import { UserHistory } from '../../features/item-neighbours';
import { SequenceScores } from '../../features/sequence-scores';
import { UserState } from '../../features/user-state';
import { FeedFallbackReason } from '../feed-metrics';

/**
 * What a source returns, best first: video ids, or (for sources reading in-memory lists)
 * the videos' catalog ordinals, `CatalogSnapshotService.ordinalsOf(list)`, which the
 * candidate pool filters without looking each id up.
 */
export type CandidateIds = readonly string[] | Int32Array;

/** What a candidate source knows about the request. */
export interface CandidateContext {
  readonly userId: string;
  /** The user's online state (an empty state for a new user, or while Redis is unavailable). */
  readonly user: UserState;
  /** True when the user's taste embedding has any signal. */
  readonly userHasEmbedding: boolean;
  /** Creators the user follows: the online state's follows plus the follows table. */
  readonly follows: ReadonlySet<string>;
  /** What the user's recent videos say about other videos (null when no item neighbours are loaded). */
  readonly history: UserHistory | null;
  /** The sequence model's view of the user (null without a model). */
  readonly sequence: SequenceScores | null;
  /** Epoch ms of the request. */
  readonly now: number;
  /** Return at most this many ids. */
  readonly limit: number;
}

/**
 * One way of finding videos worth ranking for a user. Sources run in parallel; each
 * has a time budget, and one that fails or runs late is left out of that request
 * (and counted) while the others still serve. To add one: implement this, add the
 * class to `SOURCES` in src/feed/feed.module.ts, give it a `defaultShare`
 * (FEED_SOURCES can change it or turn the source off without code).
 */
export interface CandidateSource {
  /** Label reported with each item it found (`source` in the feed response and the impression log). */
  readonly name: string;
  /**
   * Its weight in the request's candidate budget (FEED_CANDIDATES) unless FEED_SOURCES
   * names it. The enabled sources' shares are normalised to sum to 1; 0 = off by default.
   */
  readonly defaultShare: number;
  /** Time budget in ms; defaults to FEED_BUDGET_MS. */
  readonly budgetMs?: number;
  /** Video ids (or catalog ordinals), best first, at most `ctx.limit`. In-memory sources may answer synchronously. */
  fetch(ctx: CandidateContext): CandidateIds | Promise<CandidateIds>;
}

/** Injection token for the registered sources, in priority order (FEED_SOURCES decides which run). */
export const CANDIDATE_SOURCES = Symbol('CANDIDATE_SOURCES');

/** Thrown by a source whose backing system is down; reported as a feed fallback with this reason. */
export class SourceUnavailableError extends Error {
  constructor(
    readonly reason: FeedFallbackReason,
    message: string,
  ) {
    super(message);
  }
}
