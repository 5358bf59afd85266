import { Injectable, OnModuleInit } from '@nestjs/common';
import { CatalogSnapshotService } from '../catalog/catalog-snapshot.service';
import { AppConfig } from '../config/app-config';
import { decodeUserState } from '../features';
import { toDemoUserResponse } from './demo-user';
import { DemoRepository } from './demo.repository';
import { DemoNeighboursResponse, DemoStatusResponse, DemoUserResponse } from './demo.dto';
import { categoryCentroids, hasDirection, nearestCategories, nearestVideos } from './embedding-neighbours';

@Injectable()
export class DemoService implements OnModuleInit {
  private centroids = new Map<string, Float32Array>();

  constructor(
    private readonly repository: DemoRepository,
    private readonly catalog: CatalogSnapshotService,
    private readonly config: AppConfig,
  ) {}

  onModuleInit(): void {
    this.catalog.onRefresh(() => {
      this.centroids = categoryCentroids(this.catalog.values());
    });
  }

  async listUsers(limit: number): Promise<DemoUserResponse[]> {
    return (await this.repository.listUsers(limit)).map(toDemoUserResponse);
  }

  async createUser(displayName: string): Promise<DemoUserResponse> {
    return toDemoUserResponse(await this.repository.createUser(displayName));
  }

  /** The catalog videos and categories closest to the user's online embedding. */
  async neighbours(userId: string, k: number): Promise<DemoNeighboursResponse> {
    const state = decodeUserState(await this.repository.userState(userId), this.config.EMBEDDING_DIM);
    if (!hasDirection(state.embedding)) return { userId, hasEmbedding: false, videos: [], categories: [] };
    return {
      userId,
      hasEmbedding: true,
      videos: nearestVideos(state.embedding, this.catalog.values(), k).map(({ video, similarity }) => ({
        videoId: video.id,
        title: video.title,
        category: video.category,
        creatorId: video.creatorId,
        similarity: round(similarity),
      })),
      categories: nearestCategories(state.embedding, this.centroids).map((c) => ({ ...c, similarity: round(c.similarity) })),
    };
  }

  async status(): Promise<DemoStatusResponse> {
    const model = await this.repository.activeModel();
    let withEmbedding = 0;
    for (const v of this.catalog.values()) if (v.active && v.embedding) withEmbedding++;
    return {
      activeModel: model
        ? { id: model.id, activatedAt: model.activatedAt?.toISOString() ?? null, metrics: model.metrics }
        : null,
      catalog: { videos: this.catalog.size, withEmbedding },
    };
  }
}

const round = (x: number) => Math.round(x * 1000) / 1000;
