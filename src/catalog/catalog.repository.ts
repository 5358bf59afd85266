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

export function toCatalogVideo(row: VideoRow): CatalogVideo {
  return {
    id: row.id,
    creatorId: row.creator_id,
    title: row.title,
    category: row.category,
    tags: row.tags ?? [],
    durationMs: row.duration_ms,
    createdAt: row.created_at.getTime(),
    embedding: row.embedding ? Float32Array.from(row.embedding) : null,
    active: row.status === 'active',
  };
}

/** Reads the catalog from Postgres in the shape the online path uses. */
@Injectable()
export class CatalogRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /** Streams the whole catalog in id order, `pageSize` rows at a time (keyset paging down the primary key). */
  async *pages(pageSize = 20_000): AsyncGenerator<CatalogVideo[]> {
    let after = '';
    for (;;) {
      const rows = await keysetPage<VideoRow>(this.db, `SELECT ${COLUMNS} FROM videos WHERE id > $1 ORDER BY id LIMIT $2`, [after, pageSize]);
      if (rows.length === 0) return;
      yield rows.map(toCatalogVideo);
      after = rows[rows.length - 1].id;
    }
  }

  async findByIds(ids: string[]): Promise<CatalogVideo[]> {
    if (ids.length === 0) return [];
    const rows: VideoRow[] = await this.db.query(`SELECT ${COLUMNS} FROM videos WHERE id = ANY($1)`, [ids]);
    return rows.map(toCatalogVideo);
  }
}
