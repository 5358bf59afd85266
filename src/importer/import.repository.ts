import { Injectable, OnModuleDestroy } from '@nestjs/common';
import { Pool, PoolClient } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { AppConfig } from '../config/app-config';
import { EventRecord, VideoRecord } from './import-records';

export interface Checkpoint {
  source: string;
  line: number;
}

function text(s: string): string {
  return /[\\\t\n\r]/.test(s) ? s.replace(/\\/g, '\\\\').replace(/\t/g, '\\t').replace(/\n/g, '\\n').replace(/\r/g, '\\r') : s;
}

function arrayLiteral(items: string[]): string {
  return `{${items.map((t) => `"${t.replace(/["\\]/g, '\\$&')}"`).join(',')}}`;
}

/**
 * All Postgres I/O of the importer. Rows are COPYed into a session-local staging table and
 * moved with INSERT ... ON CONFLICT in the same transaction (with the checkpoint, for
 * events), so a chunk is either entirely in or not at all, and writing it twice adds nothing.
 */
@Injectable()
export class ImportRepository implements OnModuleDestroy {
  private readonly pool: Pool;

  constructor(config: AppConfig) {
    this.pool = new Pool({ connectionString: config.DATABASE_URL, max: 2, connectionTimeoutMillis: 5000 });
  }

  async onModuleDestroy(): Promise<void> {
    await this.pool.end();
  }

  /** Upserts the videos (creators created as needed). Returns how many were new. */
  async writeVideos(videos: VideoRecord[]): Promise<number> {
    if (videos.length === 0) return 0;
    return this.transaction(async (client) => {
      await client.query(`CREATE TEMP TABLE IF NOT EXISTS import_videos (id text, creator_id text, title text, category text,
        tags text[], duration_ms integer, created_ms float8) ON COMMIT DELETE ROWS`);
      const lines = videos.map(
        (v) =>
          `${text(v.id)}\t${text(v.creatorId)}\t${text(v.title)}\t${text(v.category)}\t${text(arrayLiteral(v.tags))}\t${v.durationMs}\t${v.createdAt ?? '\\N'}\n`,
      );
      await this.copy(client, 'import_videos (id, creator_id, title, category, tags, duration_ms, created_ms)', lines);
      await client.query(
        `INSERT INTO creators (id, name, main_category)
         SELECT DISTINCT ON (creator_id) creator_id, creator_id, category FROM import_videos ON CONFLICT (id) DO NOTHING`,
      );
      const result = await client.query(
        `INSERT INTO videos (id, creator_id, title, category, tags, duration_ms, status, created_at, updated_at)
         SELECT t.id, t.creator_id, t.title, t.category, t.tags, t.duration_ms, COALESCE(v.status, 'active'),
                COALESCE(to_timestamp(t.created_ms / 1000.0), v.created_at, now()), now()
         FROM import_videos t LEFT JOIN videos v ON v.id = t.id
         ON CONFLICT (id) DO UPDATE SET creator_id = EXCLUDED.creator_id, title = EXCLUDED.title, category = EXCLUDED.category,
           tags = EXCLUDED.tags, duration_ms = EXCLUDED.duration_ms, created_at = EXCLUDED.created_at, updated_at = now()
         RETURNING (xmax = 0) AS inserted`,
      );
      return result.rows.filter((r: { inserted: boolean }) => r.inserted).length;
    });
  }

  /**
   * Appends events (users created as needed), skipping any already logged (same user and
   * event id), and records `checkpoint` in the same transaction. Returns rows inserted.
   * Imported rows carry no `user_seq`: replay applies them before a user's live events, in time order.
   */
  async writeEvents(events: EventRecord[], checkpoint: Checkpoint | null): Promise<number> {
    return this.transaction(async (client) => {
      // Losing the last chunks to a server crash is safe: their checkpoint goes with them.
      await client.query(`SET LOCAL synchronous_commit = off`);
      await client.query(`CREATE TEMP TABLE IF NOT EXISTS import_events (event_id text, user_id text, video_id text, type text,
        watch_ms integer, occurred_ms float8) ON COMMIT DELETE ROWS`);
      const lines = events.map(
        (e) => `${text(e.eventId)}\t${e.userId}\t${e.videoId}\t${e.type}\t${e.watchMs ?? '\\N'}\t${e.occurredAt}\n`,
      );
      await this.copy(client, 'import_events (event_id, user_id, video_id, type, watch_ms, occurred_ms)', lines);
      await client.query(`INSERT INTO users (id, display_name) SELECT DISTINCT user_id, user_id FROM import_events ON CONFLICT (id) DO NOTHING`);
      const result = await client.query(
        `INSERT INTO interactions (event_id, user_id, video_id, type, watch_ms, occurred_at, received_at)
         SELECT event_id, user_id, video_id, type, watch_ms, to_timestamp(occurred_ms / 1000.0), to_timestamp(occurred_ms / 1000.0)
         FROM import_events ON CONFLICT (user_id, event_id) DO NOTHING`,
      );
      const inserted = result.rowCount ?? 0;
      if (checkpoint) {
        await client.query(
          `INSERT INTO import_checkpoints (source, line, rows_written) VALUES ($1, $2, $3)
           ON CONFLICT (source) DO UPDATE SET line = EXCLUDED.line, rows_written = import_checkpoints.rows_written + EXCLUDED.rows_written,
             updated_at = now()`,
          [checkpoint.source, checkpoint.line, inserted],
        );
      }
      return inserted;
    });
  }

  /** The last committed line of an interrupted import of `source`, or null. */
  async checkpoint(source: string): Promise<number | null> {
    const { rows } = await this.pool.query(`SELECT line FROM import_checkpoints WHERE source = $1`, [source]);
    return rows.length ? Number(rows[0].line) : null;
  }

  /** Forgets the checkpoint once the whole source is in, so the next import of it reads it all again (and adds nothing). */
  async clearCheckpoint(source: string): Promise<void> {
    await this.pool.query(`DELETE FROM import_checkpoints WHERE source = $1`, [source]);
  }

  async videoIds(): Promise<Set<string>> {
    const { rows } = await this.pool.query<{ id: string }>(`SELECT id FROM videos`);
    return new Set(rows.map((r) => r.id));
  }

  /** Epoch ms of the oldest and newest logged events, or null for an empty log. */
  async historySpan(): Promise<{ from: number; to: number } | null> {
    const { rows } = await this.pool.query(
      `SELECT (extract(epoch FROM min(occurred_at)) * 1000)::float8 AS from_ms, (extract(epoch FROM max(occurred_at)) * 1000)::float8 AS to_ms
       FROM interactions`,
    );
    return rows[0].from_ms === null ? null : { from: Number(rows[0].from_ms), to: Number(rows[0].to_ms) };
  }

  /** Of `ids`, those with no video. */
  async missingVideos(ids: string[]): Promise<string[]> {
    const { rows } = await this.pool.query<{ id: string }>(
      `SELECT id FROM unnest($1::text[]) AS t(id) WHERE NOT EXISTS (SELECT 1 FROM videos v WHERE v.id = t.id)`,
      [[...new Set(ids)]],
    );
    return rows.map((r) => r.id);
  }

  /** Sets each video's created time to its first logged event (videos imported without one). Returns videos changed. */
  async createdAtFromFirstEvent(videoIds: string[]): Promise<number> {
    let changed = 0;
    for (let i = 0; i < videoIds.length; i += 10_000) {
      const result = await this.pool.query(
        `UPDATE videos v SET created_at = f.first, updated_at = now()
         FROM (SELECT video_id, min(occurred_at) AS first FROM interactions WHERE video_id = ANY($1::text[]) GROUP BY video_id) f
         WHERE v.id = f.video_id AND v.created_at IS DISTINCT FROM f.first`,
        [videoIds.slice(i, i + 10_000)],
      );
      changed += result.rowCount ?? 0;
    }
    return changed;
  }

  private async copy(client: PoolClient, target: string, lines: string[]): Promise<void> {
    async function* chunks() {
      for (let i = 0; i < lines.length; i += 5000) yield lines.slice(i, i + 5000).join('');
    }
    await pipeline(Readable.from(chunks()), client.query(copyFrom(`COPY ${target} FROM STDIN`)));
  }

  private async transaction<T>(work: (client: PoolClient) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      const result = await work(client);
      await client.query('COMMIT');
      return result;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  }
}
