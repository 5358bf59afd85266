import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { DriftReferenceEntity, DriftReportEntity, ModelVersionEntity } from '../database/entities';
import { decodeFloat4ArraySend } from '../database/float4-array';

export interface LiveFeatureRow {
  features: Float32Array;
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
    // The features in binary (see decodeFloat4ArraySend): a text real[] costs the worker more than twice the CPU to parse.
    const rows: { features: Buffer; userId: string; videoId: string }[] = await this.db.query(
      `SELECT array_send(features) AS features, user_id AS "userId", video_id AS "videoId" FROM impressions
        WHERE served_at >= $1 AND model_version = $2 AND features IS NOT NULL
        ORDER BY served_at DESC
        LIMIT $3`,
      [since, modelVersion, limit],
    );
    return rows.map((r) => ({ features: decodeFloat4ArraySend(r.features), userId: r.userId, videoId: r.videoId }));
  }

  /** The live reference captured for `modelVersion`, or null. */
  async reference(modelVersion: string): Promise<DriftReferenceEntity | null> {
    return this.db.getRepository(DriftReferenceEntity).findOneBy({ modelVersion });
  }

  /**
   * Stores `reference` as its model's live reference unless that model already has one
   * (a concurrent check captured it first), and removes other models' references. Returns
   * the model's stored reference.
   */
  async captureReference(reference: DriftReferenceEntity): Promise<DriftReferenceEntity> {
    return this.db.transaction(async (tx) => {
      await tx.query(`DELETE FROM drift_references WHERE model_version <> $1`, [reference.modelVersion]);
      await tx.query(
        `INSERT INTO drift_references (model_version, captured_at, window_start, sample_size, distributions)
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (model_version) DO NOTHING`,
        [reference.modelVersion, reference.capturedAt, reference.windowStart, reference.sampleSize, JSON.stringify(reference.distributions)],
      );
      return tx.getRepository(DriftReferenceEntity).findOneByOrFail({ modelVersion: reference.modelVersion });
    });
  }

  async save(report: Omit<DriftReportEntity, 'id'>): Promise<DriftReportEntity> {
    const repo = this.db.getRepository(DriftReportEntity);
    return repo.save(repo.create(report));
  }

  async latest(limit: number): Promise<DriftReportEntity[]> {
    return this.db.getRepository(DriftReportEntity).find({ order: { computedAt: 'DESC', id: 'DESC' }, take: limit });
  }
}
