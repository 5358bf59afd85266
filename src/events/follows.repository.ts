import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { emptyUserState, MAX_FOLLOWS, UserState } from '../features/user-state';

/** The follows table (the social graph a deployment starts with), read into user state. */
@Injectable()
export class FollowsRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /** The creators one user follows, oldest first. */
  async followsOf(userId: string): Promise<string[]> {
    const rows: { creator_id: string }[] = await this.db.query(
      `SELECT creator_id FROM follows WHERE user_id = $1 ORDER BY created_at, creator_id`,
      [userId],
    );
    return rows.map((r) => r.creator_id);
  }

  /** Every user's follows, oldest first. */
  async allFollows(): Promise<Map<string, string[]>> {
    const rows: { user_id: string; creator_id: string }[] = await this.db.query(
      `SELECT user_id, creator_id FROM follows ORDER BY user_id, created_at, creator_id`,
    );
    const out = new Map<string, string[]>();
    for (const r of rows) {
      const list = out.get(r.user_id);
      if (list) list.push(r.creator_id);
      else out.set(r.user_id, [r.creator_id]);
    }
    return out;
  }
}

/**
 * The state a user starts from before their first event: empty, following whom the
 * follows table says. Live processing and replay both start here, so they agree.
 */
export function initialUserState(dim: number, follows: string[]): UserState {
  const state = emptyUserState(dim);
  state.follows = follows.slice(-MAX_FOLLOWS);
  return state;
}
