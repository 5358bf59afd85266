import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { EventType } from './event-types';
import { LoggedEvent } from './event-jobs';

/** One interactions row as replay reads it (times in epoch ms). */
export interface LogRow {
  id: string;
  eventId: string;
  userId: string;
  videoId: string;
  type: EventType;
  watchMs: number | null;
  requestId: string | null;
  occurredAt: number;
  receivedAt: number;
  userSeq: number | null;
}

interface RawLogRow {
  id: string;
  event_id: string;
  user_id: string;
  video_id: string;
  type: EventType;
  watch_ms: number | null;
  request_id: string | null;
  occurred_ms: number;
  received_ms: number;
  user_seq: string | null;
  occurred_key: string;
}

/** Where a page ended; the time is Postgres' own text form so microseconds survive the round trip. */
export interface LogCursor {
  userId: string;
  occurredAt: string;
  id: string;
}

/** The append-only interactions log in Postgres: batched idempotent inserts and ordered reads for replay. */
@Injectable()
export class InteractionLogRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /** Inserts the events in one statement; rows already logged (same user and event id) are skipped. Returns rows inserted. */
  async append(events: LoggedEvent[]): Promise<number> {
    if (events.length === 0) return 0;
    const [{ inserted }]: { inserted: number }[] = await this.db.query(
      `WITH rows AS (
         INSERT INTO interactions (event_id, user_id, video_id, type, watch_ms, request_id, occurred_at, received_at, user_seq)
         SELECT e, u, v, t, w, r, to_timestamp(o / 1000.0), to_timestamp(a / 1000.0), s
         FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::int[], $6::text[], $7::float8[], $8::float8[], $9::bigint[])
           AS x(e, u, v, t, w, r, o, a, s)
         ON CONFLICT (user_id, event_id) DO NOTHING
         RETURNING 1)
       SELECT count(*)::int AS inserted FROM rows`,
      [
        events.map((e) => e.eventId),
        events.map((e) => e.userId),
        events.map((e) => e.videoId),
        events.map((e) => e.type),
        events.map((e) => e.watchMs),
        events.map((e) => e.requestId),
        events.map((e) => e.occurredAt),
        events.map((e) => e.receivedAt),
        events.map((e) => e.userSeq),
      ],
    );
    return inserted;
  }

  /** Per user after `afterUserId` (in user order): rows in the log and the highest user_seq. */
  async userCounts(afterUserId: string | null, limit: number): Promise<{ userId: string; rows: number; maxSeq: number }[]> {
    const raw: { user_id: string; rows: number; max_seq: string | null }[] = await this.db.query(
      `SELECT user_id, count(*)::int AS rows, max(user_seq) AS max_seq FROM interactions
       ${afterUserId === null ? '' : 'WHERE user_id > $2'} GROUP BY user_id ORDER BY user_id LIMIT $1`,
      afterUserId === null ? [limit] : [limit, afterUserId],
    );
    return raw.map((r) => ({ userId: r.user_id, rows: r.rows, maxSeq: Number(r.max_seq ?? 0) }));
  }

  /**
   * One page of the log in (user, time, id) order after `after` (keyset paging on the
   * user/time index), so replay sees each user's events together.
   */
  async page(after: LogCursor | null, limit: number): Promise<{ rows: LogRow[]; next: LogCursor | null }> {
    const cols = `id, event_id, user_id, video_id, type, watch_ms, request_id, user_seq, occurred_at::text AS occurred_key,
      (extract(epoch FROM occurred_at) * 1000)::float8 AS occurred_ms, (extract(epoch FROM received_at) * 1000)::float8 AS received_ms`;
    const raw: RawLogRow[] = after
      ? await this.db.query(
          `SELECT ${cols} FROM interactions WHERE (user_id, occurred_at, id) > ($1, $2::timestamptz, $3)
           ORDER BY user_id, occurred_at, id LIMIT $4`,
          [after.userId, after.occurredAt, after.id, limit],
        )
      : await this.db.query(`SELECT ${cols} FROM interactions ORDER BY user_id, occurred_at, id LIMIT $1`, [limit]);
    const last = raw[raw.length - 1];
    return {
      rows: raw.map((r) => ({
        id: r.id,
        eventId: r.event_id,
        userId: r.user_id,
        videoId: r.video_id,
        type: r.type,
        watchMs: r.watch_ms,
        requestId: r.request_id,
        occurredAt: r.occurred_ms,
        receivedAt: r.received_ms,
        userSeq: r.user_seq === null ? null : Number(r.user_seq),
      })),
      next: last ? { userId: last.user_id, occurredAt: last.occurred_key, id: last.id } : null,
    };
  }
}
