import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown, ServiceUnavailableException } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { withDeadline } from '../../common/deadline';
import { AppConfig } from '../../config/app-config';
import { WarmupService } from '../../lifecycle/warmup.service';

export interface UserGraph {
  /** Creators the user follows (follows table); null when they were not read in time (no follow source then). */
  follows: ReadonlySet<string> | null;
  /**
   * Creators the page must not show: the user's blocks, or, while those are not read yet,
   * every creator anyone had blocked at its last re-read (a minute at most).
   */
  blocked: ReadonlySet<string>;
  /** False when this is the stand-in (no follows, everyone's blocks): the feed reports it. */
  complete: boolean;
}

const TTL_MS = 60_000;
const MAX_USERS = 200_000;
const FAILURE_LOG_EVERY_MS = 10_000;
/** Expired users gathered this long are re-read together, at most REFRESH_BATCH_MAX in one query. */
const REFRESH_BATCH_MS = 100;
const REFRESH_BATCH_MAX = 500;

type GraphRow = { user_id: string; kind: 'f' | 'b'; creator_id: string };
const GRAPH_SQL = `SELECT user_id, 'f' AS kind, creator_id FROM follows WHERE user_id = ANY($1)
  UNION ALL SELECT user_id, 'b' AS kind, creator_id FROM creator_blocks WHERE user_id = ANY($1)`;

/**
 * A user's follows and blocked creators from Postgres, cached per user (bounded), re-read
 * in the background once a minute and never dropped for a late read. The re-reads of
 * users whose entry expired are gathered for REFRESH_BATCH_MS and made in one query
 * (a user coming back after a minute would otherwise cost a query per feed). Blocks always
 * apply: a user not cached yet whose read runs past the budget gets the process-wide set
 * of every creator anyone blocked (re-read every minute), and only when even that was
 * never read does the request wait for the user's own blocks.
 */
@Injectable()
export class UserGraphRepository implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly cache = new Map<string, { follows: ReadonlySet<string>; blocked: ReadonlySet<string>; expires: number }>();
  private readonly inflight = new Map<string, Promise<UserGraph>>();
  private readonly logger = new Logger(UserGraphRepository.name);
  private lastFailureLog = 0;
  private anyoneBlocked: ReadonlySet<string> | null = null;
  private refreshingAnyone: Promise<void> | null = null;
  private timer: NodeJS.Timeout | null = null;
  /** Expired users waiting for the next batched re-read. */
  private readonly expired = new Set<string>();
  /** Users whose batched re-read is in flight. */
  private readonly refreshing = new Set<string>();
  private refreshTimer: NodeJS.Timeout | null = null;

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly config: AppConfig,
    private readonly warmup: WarmupService,
  ) {}

  onApplicationBootstrap(): void {
    this.warmup.track('blocked_creators', this.refreshAnyoneBlocked());
    this.timer = setInterval(() => void this.refreshAnyoneBlocked(), TTL_MS);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    if (this.timer) clearInterval(this.timer);
    if (this.refreshTimer) clearTimeout(this.refreshTimer);
  }

  /**
   * The user's graph: cached (an expired entry is served while it is re-read), else read
   * within `budgetMs`, else the stand-in with everyone's blocks. Throws 503 only when
   * neither could be read within FEED_BLOCKS_WAIT_MS.
   */
  async get(userId: string, budgetMs: number): Promise<UserGraph> {
    const cached = this.cache.get(userId);
    if (cached) {
      if (cached.expires <= Date.now()) this.refreshLater(userId);
      return { follows: cached.follows, blocked: cached.blocked, complete: true };
    }
    const anyone = this.anyoneBlocked;
    const wait = anyone ? budgetMs : this.config.FEED_BLOCKS_WAIT_MS;
    try {
      return await withDeadline(this.load(userId), wait, () => new Error(`user graph not read within ${wait} ms`));
    } catch {
      const fallback = this.anyoneBlocked;
      if (fallback) return { follows: null, blocked: fallback, complete: false };
      throw new ServiceUnavailableException('blocked creators could not be read; retry later');
    }
  }

  private load(userId: string): Promise<UserGraph> {
    let pending = this.inflight.get(userId);
    if (!pending) {
      pending = this.query(userId).finally(() => this.inflight.delete(userId));
      pending.catch((err: Error) => this.logFailure(`reading follows/blocks failed: ${err.message}`));
      this.inflight.set(userId, pending);
    }
    return pending;
  }

  private async query(userId: string): Promise<UserGraph> {
    const rows: GraphRow[] = await this.db.query(GRAPH_SQL, [[userId]]);
    return this.remember(userId, rows);
  }

  private remember(userId: string, rows: readonly GraphRow[]): UserGraph {
    const follows = new Set<string>();
    const blocked = new Set<string>();
    for (const r of rows) (r.kind === 'f' ? follows : blocked).add(r.creator_id);
    this.cache.delete(userId);
    this.cache.set(userId, { follows, blocked, expires: Date.now() + TTL_MS });
    if (this.cache.size > MAX_USERS) this.cache.delete(this.cache.keys().next().value!);
    return { follows, blocked, complete: true };
  }

  /** Queues a cached user's re-read for the next batch; the cached entry serves until it lands. */
  private refreshLater(userId: string): void {
    if (this.inflight.has(userId) || this.refreshing.has(userId)) return;
    this.expired.add(userId);
    if (!this.refreshTimer) {
      this.refreshTimer = setTimeout(() => void this.refreshExpired(), REFRESH_BATCH_MS);
      this.refreshTimer.unref();
    }
  }

  /** Re-reads the queued users, REFRESH_BATCH_MAX per query; a failure keeps their entries (re-queued on their next feed). */
  private async refreshExpired(): Promise<void> {
    this.refreshTimer = null;
    while (this.expired.size > 0) {
      const users = [...this.expired].slice(0, REFRESH_BATCH_MAX);
      for (const u of users) {
        this.expired.delete(u);
        this.refreshing.add(u);
      }
      try {
        const rows: GraphRow[] = await this.db.query(GRAPH_SQL, [users]);
        const byUser = new Map<string, GraphRow[]>(users.map((u) => [u, []]));
        for (const r of rows) byUser.get(r.user_id)?.push(r);
        for (const [u, own] of byUser) this.remember(u, own);
      } catch (err) {
        this.logFailure(`re-reading follows/blocks of ${users.length} users failed: ${(err as Error).message}`);
        return;
      } finally {
        for (const u of users) this.refreshing.delete(u);
      }
    }
  }

  /** Re-reads every creator anyone blocked; a failure keeps the previous set. */
  private refreshAnyoneBlocked(): Promise<void> {
    this.refreshingAnyone ??= this.db
      .query(`SELECT DISTINCT creator_id FROM creator_blocks`)
      .then((rows: { creator_id: string }[]) => {
        this.anyoneBlocked = new Set(rows.map((r) => r.creator_id));
      })
      .catch((err: Error) => this.logFailure(`reading every blocked creator failed: ${err.message}`))
      .finally(() => (this.refreshingAnyone = null));
    return this.refreshingAnyone;
  }

  private logFailure(message: string): void {
    const now = Date.now();
    if (now - this.lastFailureLog < FAILURE_LOG_EVERY_MS) return;
    this.lastFailureLog = now;
    this.logger.warn(message);
  }
}
