import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';

export interface UserGraph {
  /** Creators the user follows (follows table). */
  follows: ReadonlySet<string>;
  /** Creators the user blocked (creator_blocks table). */
  blocked: ReadonlySet<string>;
}

const TTL_MS = 60_000;
const MAX_USERS = 200_000;

/**
 * A user's follows and blocked creators from Postgres, cached per user for a minute
 * (LRU-bounded) so the feed reads Postgres once per user per minute at most. A slow
 * or failed read answers with the last known graph (or null) and fills the cache
 * when it completes.
 */
@Injectable()
export class UserGraphRepository {
  private readonly cache = new Map<string, { graph: UserGraph; expires: number }>();
  private readonly inflight = new Map<string, Promise<UserGraph>>();

  constructor(@InjectDataSource() private readonly db: DataSource) {}

  async get(userId: string, budgetMs: number): Promise<UserGraph | null> {
    const cached = this.cache.get(userId);
    if (cached && cached.expires > Date.now()) return cached.graph;
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([
        this.load(userId),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`user graph not read within ${budgetMs} ms`)), budgetMs);
        }),
      ]);
    } catch {
      return cached?.graph ?? null;
    } finally {
      clearTimeout(timer);
    }
  }

  private load(userId: string): Promise<UserGraph> {
    let pending = this.inflight.get(userId);
    if (!pending) {
      pending = this.query(userId).finally(() => this.inflight.delete(userId));
      pending.catch(() => undefined);
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
