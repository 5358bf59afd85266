import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { withDeadline } from '../common/deadline';

export interface UserGraph {
  /** Creators the user follows (follows table). */
  follows: ReadonlySet<string>;
  /** Creators the user blocked (creator_blocks table). */
  blocked: ReadonlySet<string>;
}

const TTL_MS = 60_000;
const MAX_USERS = 200_000;
const FAILURE_LOG_EVERY_MS = 10_000;

/**
 * A user's follows and blocked creators from Postgres, cached per user (bounded) and
 * re-read at most once a minute, off the request path once the user is known. A slow
 * or failed first read answers null (the feed reports it) and fills the cache when it
 * completes.
 */
@Injectable()
export class UserGraphRepository {
  private readonly cache = new Map<string, { graph: UserGraph; expires: number }>();
  private readonly inflight = new Map<string, Promise<UserGraph>>();
  private readonly logger = new Logger(UserGraphRepository.name);
  private lastFailureLog = 0;

  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /**
   * The user's graph: from the cache when there is one (an expired entry is served
   * while it is re-read in the background), else read within `budgetMs` or null.
   */
  async get(userId: string, budgetMs: number): Promise<UserGraph | null> {
    const cached = this.cache.get(userId);
    if (cached) {
      if (cached.expires <= Date.now()) this.load(userId).catch(() => undefined);
      return cached.graph;
    }
    try {
      return await withDeadline(this.load(userId), budgetMs, () => new Error(`user graph not read within ${budgetMs} ms`));
    } catch {
      return null;
    }
  }

  private load(userId: string): Promise<UserGraph> {
    let pending = this.inflight.get(userId);
    if (!pending) {
      pending = this.query(userId).finally(() => this.inflight.delete(userId));
      pending.catch((err: Error) => {
        const now = Date.now();
        if (now - this.lastFailureLog >= FAILURE_LOG_EVERY_MS) {
          this.lastFailureLog = now;
          this.logger.warn(`reading follows/blocks failed: ${err.message}`);
        }
      });
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
    const graph: UserGraph = {
      follows: new Set(rows.filter((r) => r.kind === 'f').map((r) => r.creator_id)),
      blocked: new Set(rows.filter((r) => r.kind === 'b').map((r) => r.creator_id)),
    };
    this.cache.delete(userId);
    this.cache.set(userId, { graph, expires: Date.now() + TTL_MS });
    if (this.cache.size > MAX_USERS) this.cache.delete(this.cache.keys().next().value!);
    return graph;
  }
}
