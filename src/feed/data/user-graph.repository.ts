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

/**
 * A user's follows and blocked creators from Postgres, cached per user (bounded), re-read
 * in the background once a minute and never dropped for a late read. Blocks always
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
  }

  /**
   * The user's graph: cached (an expired entry is served while it is re-read), else read
   * within `budgetMs`, else the stand-in with everyone's blocks. Throws 503 only when
   * neither could be read within FEED_BLOCKS_WAIT_MS.
   */
  async get(userId: string, budgetMs: number): Promise<UserGraph> {
    const cached = this.cache.get(userId);
    if (cached) {
      if (cached.expires <= Date.now()) this.load(userId).catch(() => undefined);
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
    const rows: { kind: 'f' | 'b'; creator_id: string }[] = await this.db.query(
      `SELECT 'f' AS kind, creator_id FROM follows WHERE user_id = $1
       UNION ALL SELECT 'b' AS kind, creator_id FROM creator_blocks WHERE user_id = $1`,
      [userId],
    );
    const follows = new Set(rows.filter((r) => r.kind === 'f').map((r) => r.creator_id));
    const blocked = new Set(rows.filter((r) => r.kind === 'b').map((r) => r.creator_id));
    this.cache.delete(userId);
    this.cache.set(userId, { follows, blocked, expires: Date.now() + TTL_MS });
    if (this.cache.size > MAX_USERS) this.cache.delete(this.cache.keys().next().value!);
    return { follows, blocked, complete: true };
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
