import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { keysetPage } from '../../database/keyset-page';
import { EventType } from '../../events/event-types';
import { FollowsRepository } from '../../events/follows.repository';
import { CatalogVideo } from '../../features/catalog-video';
import { EventLog, ImpressionLog, Interner, NO_REQUEST, TrainingCatalog, TrainingLog, UNKNOWN_VIDEO } from './training-log';

export interface LogRange {
  /** Interactions replayed for state: [eventsFrom, eventsTo] (epoch ms; -Infinity for the whole log). */
  eventsFrom: number;
  eventsTo: number;
  /** Impressions that become training rows: [impressionsFrom, impressionsTo). */
  impressionsFrom: number;
  impressionsTo: number;
}

const PAGE_SIZE = 10_000;
const MS = (column: string) => `(extract(epoch FROM ${column}) * 1000)::float8`;
const toTimestamp = (ms: number): Date | string => (Number.isFinite(ms) ? new Date(ms) : ms < 0 ? '-infinity' : 'infinity');

interface VideoRow {
  id: string;
  creator_id: string;
  title: string;
  category: string;
  tags: string[];
  duration_ms: number;
  created_ms: number;
  status: string;
  embedding: number[] | null;
  learned_embedding: number[] | null;
}

interface EventRow {
  id: string;
  user_id: string;
  video_id: string;
  type: EventType;
  watch_ms: number | null;
  request_id: string | null;
  at: number;
}

interface ImpressionRow {
  id: string;
  request_id: string;
  user_id: string;
  video_id: string;
  model_version: string | null;
  features: number[] | null;
  at: number;
}

/** Reads what training needs from Postgres, page by page in time order (keyset paging). */
@Injectable()
export class TrainingLogRepository {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly follows: FollowsRepository,
  ) {}

  /** Epoch ms of the newest interaction, or null for an empty log. */
  async lastEventAt(): Promise<number | null> {
    const [row]: { at: number | null }[] = await this.db.query(`SELECT ${MS('max(occurred_at)')} AS at FROM interactions`);
    return row?.at ?? null;
  }

  /** Epoch ms of the oldest logged impression (the first possible training row), or null when there is none. */
  async firstImpressionAt(): Promise<number | null> {
    const [row]: { at: number | null }[] = await this.db.query(`SELECT ${MS('min(served_at)')} AS at FROM impressions`);
    return row?.at ?? null;
  }

  async loadCatalog(): Promise<TrainingCatalog> {
    const catalog: TrainingCatalog = { videos: [], index: new Map(), content: [], learned: [] };
    let after = '';
    for (;;) {
      const rows = await keysetPage<VideoRow>(
        this.db,
        `SELECT id, creator_id, title, category, tags, duration_ms, ${MS('created_at')} AS created_ms, status, embedding, learned_embedding
         FROM videos WHERE id > $1 ORDER BY id LIMIT $2`,
        [after, PAGE_SIZE],
      );
      if (rows.length === 0) return catalog;
      for (const r of rows) {
        const content = r.embedding ? Float32Array.from(r.embedding) : null;
        const learned = r.learned_embedding ? Float32Array.from(r.learned_embedding) : null;
        const video: CatalogVideo = {
          id: r.id,
          creatorId: r.creator_id,
          title: r.title,
          category: r.category,
          tags: r.tags ?? [],
          durationMs: r.duration_ms,
          createdAt: r.created_ms,
          embedding: content ?? learned,
          active: r.status === 'active',
        };
        catalog.index.set(r.id, catalog.videos.length);
        catalog.videos.push(video);
        catalog.content.push(content);
        catalog.learned.push(learned);
      }
      after = rows[rows.length - 1].id;
    }
  }

  /** Loads the catalog, the interactions and the impressions of `range` into compact columns. */
  async loadLog(range: LogRange, onPage?: (events: number, impressions: number) => void): Promise<TrainingLog> {
    const catalog = await this.loadCatalog();
    const follows = await this.follows.allFollows();
    const users = new Interner();
    const requests = new Interner();
    const events = new EventLog();
    const impressions = new ImpressionLog();
    const requestId = (r: string | null) => (r ? requests.id(r) : NO_REQUEST);

    for await (const page of this.pages<EventRow>(
      'interactions',
      'occurred_at',
      'id, user_id, video_id, type, watch_ms, request_id',
      range.eventsFrom,
      range.eventsTo,
      true,
    )) {
      for (const r of page) {
        events.push(r.at, users.id(r.user_id), catalog.index.get(r.video_id) ?? UNKNOWN_VIDEO, r.type, r.watch_ms, requestId(r.request_id));
      }
      onPage?.(events.length, impressions.length);
    }
    for await (const page of this.pages<ImpressionRow>(
      'impressions',
      'served_at',
      'id, request_id, user_id, video_id, model_version, features',
      range.impressionsFrom,
      range.impressionsTo,
      false,
    )) {
      for (const r of page) {
        const video = catalog.index.get(r.video_id);
        if (video === undefined) continue;
        const logged =
          r.features && r.model_version ? { modelVersion: r.model_version, features: Float32Array.from(r.features) } : undefined;
        impressions.push(r.at, users.id(r.user_id), video, requests.id(r.request_id), logged);
      }
      onPage?.(events.length, impressions.length);
    }
    return { catalog, follows, users, requests, events, impressions };
  }

  /**
   * Rows of `table` with `timeColumn` in [from, to] (or [from, to) when not inclusive),
   * in (time, id) order. The cursor is the last row's id: its exact timestamp is read
   * back by primary key, so microsecond timestamps never skip or repeat rows.
   */
  private async *pages<T extends { id: string }>(
    table: 'interactions' | 'impressions',
    timeColumn: 'occurred_at' | 'served_at',
    columns: string,
    from: number,
    to: number,
    inclusive: boolean,
  ): AsyncGenerator<T[]> {
    let after: string | null = null;
    for (;;) {
      const params: unknown[] = [toTimestamp(from), toTimestamp(to), PAGE_SIZE];
      let cursor = '';
      if (after !== null) {
        params.push(after);
        cursor = `AND (${timeColumn}, id) > (SELECT ${timeColumn}, id FROM ${table} WHERE id = $4)`;
      }
      const rows: T[] = await this.db.query(
        `SELECT ${columns}, ${MS(timeColumn)} AS at FROM ${table}
         WHERE ${timeColumn} >= $1 AND ${timeColumn} ${inclusive ? '<=' : '<'} $2 ${cursor}
         ORDER BY ${timeColumn}, id LIMIT $3`,
        params,
      );
      if (rows.length === 0) return;
      yield rows;
      if (rows.length < PAGE_SIZE) return;
      after = rows[rows.length - 1].id;
    }
  }
}
