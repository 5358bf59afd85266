import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { keysetPage } from '../database/keyset-page';
import { CatalogVideo } from '../features/catalog-video';

interface VideoRow {
  id: string;
  creator_id: string;
  title: string;
  category: string;
  tags: string[];
  duration_ms: number;
  created_at: Date;
  status: string;
  embedding: number[] | null;
}

const COLUMNS = `id, creator_id, title, category, tags, duration_ms, created_at, status,
  COALESCE(embedding, learned_embedding) AS embedding`;

/**
 * One copy of each string many videos share (creator ids, categories, tags). Postgres
 * sends each row its own copies: at 100k videos that was ~400k strings ("music" 18k
 * times) the garbage collector marked on every full collection, in the api and the worker.
 */
export class SharedStrings {
  private readonly copies = new Map<string, string>();

  get(value: string): string {
    const copy = this.copies.get(value);
    if (copy !== undefined) return copy;
    this.copies.set(value, value);
    return value;
  }
}

/**
 * A page of rows as catalog videos. Their embeddings are views of one buffer per page
 * (one ArrayBuffer per page instead of one per video, for the same reason as SharedStrings).
 */
export function toCatalogVideos(rows: readonly VideoRow[], strings = new SharedStrings()): CatalogVideo[] {
  let floats = 0;
  for (const row of rows) floats += row.embedding?.length ?? 0;
  const embeddings = new Float32Array(floats);
  let at = 0;
  return rows.map((row) => {
    let embedding: Float32Array | null = null;
    if (row.embedding) {
      embedding = embeddings.subarray(at, at + row.embedding.length);
      embedding.set(row.embedding);
      at += row.embedding.length;
    }
    const tags = row.tags ?? [];
    for (let i = 0; i < tags.length; i++) tags[i] = strings.get(tags[i]);
    return {
      id: row.id,
      creatorId: strings.get(row.creator_id),
      title: row.title,
      category: strings.get(row.category),
      tags,
      durationMs: row.duration_ms,
      createdAt: row.created_at.getTime(),
      embedding,
      active: row.status === 'active',
    };
  });
}

export function toCatalogVideo(row: VideoRow): CatalogVideo {
  return toCatalogVideos([row])[0];
}

/** Reads the catalog from Postgres in the shape the online path uses. */
@Injectable()
export class CatalogRepository {
  /** The shared strings of the last whole read (and of the videos read since): a new set per whole read, so values no video has any more go. */
  private strings = new SharedStrings();

  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /** Streams the whole catalog in id order, `pageSize` rows at a time (keyset paging down the primary key). */
  async *pages(pageSize = 20_000): AsyncGenerator<CatalogVideo[]> {
    const strings = new SharedStrings();
    this.strings = strings;
    let after = '';
    for (;;) {
      const rows = await keysetPage<VideoRow>(this.db, `SELECT ${COLUMNS} FROM videos WHERE id > $1 ORDER BY id LIMIT $2`, [after, pageSize]);
      if (rows.length === 0) return;
      yield toCatalogVideos(rows, strings);
      after = rows[rows.length - 1].id;
    }
  }

  async findByIds(ids: string[]): Promise<CatalogVideo[]> {
    if (ids.length === 0) return [];
    const rows: VideoRow[] = await this.db.query(`SELECT ${COLUMNS} FROM videos WHERE id = ANY($1)`, [ids]);
    return toCatalogVideos(rows, this.strings);
  }
}
