import { BadRequestException, Injectable, NotFoundException } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { AppConfig } from '../config/app-config';
import { VideoEntity } from '../database/entities/video.entity';
import { AdminVideoDto, TakedownResponseDto, UpsertVideosResponseDto } from './admin-videos.dto';
import { CatalogSnapshotService } from './catalog-snapshot.service';

/**
 * Catalog writes from the admin API: Postgres first, then a catalog change message,
 * so every process (feed candidates, ANN index, event pipeline) picks up the new
 * videos or drops taken-down ones within moments.
 */
@Injectable()
export class CatalogAdminService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly catalog: CatalogSnapshotService,
    private readonly config: AppConfig,
  ) {}

  async upsert(videos: AdminVideoDto[]): Promise<UpsertVideosResponseDto> {
    this.check(videos);
    const records = videos.map((v) => ({
      id: v.id,
      creator_id: v.creatorId,
      title: v.title,
      category: v.category,
      tags: v.tags ?? null,
      duration_ms: v.durationMs,
      embedding: v.embedding ?? null,
      status: v.status ?? null,
      created_at: v.createdAt ?? null,
    }));
    const rows: { inserted: boolean }[] = await this.db.transaction(async (tx) => {
      await tx.query(
        `INSERT INTO creators (id, name, main_category)
         SELECT DISTINCT ON (creator_id) creator_id, creator_id, category
         FROM json_to_recordset($1::json) AS t(creator_id text, category text)
         ON CONFLICT (id) DO NOTHING`,
        [JSON.stringify(records)],
      );
      // Omitted optional fields keep the stored value (or take the default for a new video).
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
    await this.catalog.publishChange({ ids: videos.map((v) => v.id) });
    const created = rows.filter((r) => r.inserted).length;
    return { created, updated: rows.length - created };
  }

  async takeDown(id: string): Promise<TakedownResponseDto> {
    const { affected } = await this.db
      .createQueryBuilder()
      .update(VideoEntity)
      .set({ status: 'taken_down', updatedAt: () => 'now()' })
      .where('id = :id', { id })
      .execute();
    if (!affected) throw new NotFoundException(`video ${id} not found`);
    await this.catalog.publishChange({ ids: [id] });
    return { id, status: 'taken_down' };
  }

  /** Checks what the DTO cannot: embedding size and unique ids within the batch. */
  private check(videos: AdminVideoDto[]): void {
    const problems: string[] = [];
    const seen = new Set<string>();
    videos.forEach((v, i) => {
      if (seen.has(v.id)) problems.push(`videos.${i}.id ${v.id} appears more than once`);
      seen.add(v.id);
      if (v.embedding && v.embedding.length !== this.config.EMBEDDING_DIM) {
        problems.push(`videos.${i}.embedding must have ${this.config.EMBEDDING_DIM} values, got ${v.embedding.length}`);
      }
    });
    if (problems.length) throw new BadRequestException({ message: problems, error: 'Bad Request' });
  }
}
