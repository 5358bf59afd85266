import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { keysetPage } from '../database/keyset-page';
import { CatalogVideo } from '../features/catalog-video';
import { decodeFloat4ArraySendInto, float4ArraySendLength } from '../database/float4-array';

interface VideoRow {
  id: string;
  creator_id: string;
  title: string;
  category: string;
  tags: string[];
  duration_ms: number;
  created_at: Date;
  status: string;
  /** From Postgres in the binary send format of real[] (`array_send`); a plain array from elsewhere (the benches). */
  embedding: Buffer | readonly number[] | null;
}

// The embedding in binary (see decodeFloat4ArraySend): node-postgres parses a text real[]
// character by character, ~0.9 s of CPU for 100k videos against ~0.25 s this way.
const COLUMNS = `id, creator_id, title, category, tags, duration_ms, created_at, status,
  array_send(COALESCE(embedding, learned_embedding)) AS embedding`;

function embeddingLength(embedding: Buffer | readonly number[]): number {
  return Buffer.isBuffer(embedding) ? float4ArraySendLength(embedding) : embedding.length;
}

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
  for (const row of rows) floats += row.embedding ? embeddingLength(row.embedding) : 0;
  const embeddings = new Float32Array(floats);
  let at = 0;
  return rows.map((row) => {
    let embedding: Float32Array | null = null;
    if (row.embedding) {
      const length = embeddingLength(row.embedding);
      embedding = embeddings.subarray(at, at + length);
      if (Buffer.isBuffer(row.embedding)) decodeFloat4ArraySendInto(row.embedding, embeddings, at);
      else embedding.set(row.embedding);
      at += length;
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
