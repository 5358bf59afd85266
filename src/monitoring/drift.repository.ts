import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { DriftReportEntity, ModelVersionEntity } from '../database/entities';

export interface LiveFeatureRow {
  features: number[];
  userId: string;
  videoId: string;
}

export type ActiveModelForDrift = Pick<ModelVersionEntity, 'id' | 'artifact' | 'artifactSha256' | 'featureSpec' | 'trainingInfo'>;

/** Postgres I/O of drift monitoring: the active model, live impressions, reports. */
@Injectable()
export class DriftRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  async activeModel(): Promise<ActiveModelForDrift | null> {
    return this.db.getRepository(ModelVersionEntity).findOne({
      select: { id: true, artifact: true, artifactSha256: true, featureSpec: true, trainingInfo: true },
      where: { status: 'active' },
    });
  }

  /** Model inputs logged with the most recent impressions the model served since `since`, with whom and what they were for. */
  async liveFeatureRows(modelVersion: string, since: Date, limit: number): Promise<LiveFeatureRow[]> {
    return this.db.query(
      `SELECT features, user_id AS "userId", video_id AS "videoId" FROM impressions
        WHERE served_at >= $1 AND model_version = $2 AND features IS NOT NULL
        ORDER BY served_at DESC
        LIMIT $3`,
      [since, modelVersion, limit],
    );
  }

  async save(report: Omit<DriftReportEntity, 'id'>): Promise<DriftReportEntity> {
    const repo = this.db.getRepository(DriftReportEntity);
    return repo.save(repo.create(report));
  }

  async latest(limit: number): Promise<DriftReportEntity[]> {
    return this.db.getRepository(DriftReportEntity).find({ order: { computedAt: 'DESC', id: 'DESC' }, take: limit });
  }
}
