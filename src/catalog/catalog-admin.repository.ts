import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { VideoEntity } from '../database/entities/video.entity';

/** A video as the admin API writes it; null optional fields keep the stored value (or the default for a new video). */
export interface AdminVideoRecord {
  id: string;
  creator_id: string;
  title: string;
  category: string;
  tags: string[] | null;
  duration_ms: number;
  embedding: number[] | null;
  status: string | null;
  created_at: string | Date | null;
}

/** Postgres writes of the admin catalog endpoints. */
@Injectable()
export class CatalogAdminRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /** Inserts or updates the videos (and creates missing creators) in one transaction; per row, whether it was new. */
  upsertVideos(records: AdminVideoRecord[]): Promise<{ inserted: boolean }[]> {
    return this.db.transaction(async (tx) => {
      await tx.query(
        `INSERT INTO creators (id, name, main_category)
         SELECT DISTINCT ON (creator_id) creator_id, creator_id, category
         FROM json_to_recordset($1::json) AS t(creator_id text, category text)
         ON CONFLICT (id) DO NOTHING`,
        [JSON.stringify(records)],
      );
      return tx.query(
        `INSERT INTO videos (id, creator_id, title, category, tags, duration_ms, embedding, status, created_at, updated_at)
         SELECT t.id, t.creator_id, t.title, t.category, COALESCE(t.tags, v.tags, '{}'), t.duration_ms,
                COALESCE(t.embedding, v.embedding), COALESCE(t.status, v.status, 'active'),
                COALESCE(t.created_at, v.created_at, now()), now()
         FROM json_to_recordset($1::json)
           AS t(id text, creator_id text, title text, category text, tags text[], duration_ms integer,
                embedding real[], status text, created_at timestamptz)
         LEFT JOIN videos v ON v.id = t.id
         ON CONFLICT (id) DO UPDATE SET
           creator_id = EXCLUDED.creator_id, title = EXCLUDED.title, category = EXCLUDED.category, tags = EXCLUDED.tags,
           duration_ms = EXCLUDED.duration_ms, embedding = EXCLUDED.embedding, status = EXCLUDED.status,
           created_at = EXCLUDED.created_at, updated_at = now()
         RETURNING (xmax = 0) AS inserted`,
        [JSON.stringify(records)],
      );
    });
  }

  /** Marks the video taken down; false when there is no such video. */
  async takeDown(id: string): Promise<boolean> {
    const { affected } = await this.db
      .createQueryBuilder()
      .update(VideoEntity)
      .set({ status: 'taken_down', updatedAt: () => 'now()' })
      .where('id = :id', { id })
      .execute();
    return !!affected;
  }
}
