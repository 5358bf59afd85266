import { BadRequestException, Injectable, NotFoundException } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { AdminVideoDto, TakedownResponseDto, UpsertVideosResponseDto } from './admin-videos.dto';
import { AdminVideoRecord, CatalogAdminRepository } from './catalog-admin.repository';
import { CatalogSnapshotService } from './catalog-snapshot.service';

/**
 * Catalog writes from the admin API: Postgres first, then a catalog change message,
 * so every process (feed candidates, ANN index, event pipeline) picks up the new
 * videos or drops taken-down ones within moments.
 */
@Injectable()
export class CatalogAdminService {
  constructor(
    private readonly repository: CatalogAdminRepository,
    private readonly catalog: CatalogSnapshotService,
    private readonly config: AppConfig,
  ) {}

  async upsert(videos: AdminVideoDto[]): Promise<UpsertVideosResponseDto> {
    this.check(videos);
    const records = videos.map((v): AdminVideoRecord => ({
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
    const rows = await this.repository.upsertVideos(records);
    await this.catalog.publishChange({ ids: videos.map((v) => v.id) });
    const created = rows.filter((r) => r.inserted).length;
    return { created, updated: rows.length - created };
  }

  async takeDown(id: string): Promise<TakedownResponseDto> {
    const found = await this.repository.takeDown(id);
    if (!found) throw new NotFoundException(`video ${id} not found`);
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
