import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { DriftReferenceEntity, DriftReportEntity, ModelVersionEntity } from '../database/entities';
import { decodeFloat4ArraySend } from '../database/float4-array';
import { keysetPage } from '../database/keyset-page';

export interface LiveFeatureRow {
  features: Float32Array;
  userId: string;
  videoId: string;
}

/** A row of the drift check's read, with its keyset. */
interface LiveRow {
  id: string;
  servedAt: string;
  features: Buffer;
  userId: string;
  videoId: string;
}

/** Rows per page of the drift check's read (~5-10 ms of Postgres each). */
export const LIVE_ROWS_PAGE = 5000;

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

  /**
   * Model inputs logged with the most recent impressions the model served since `since`,
   * with whom and what they were for, newest first, at most `limit`. Read in pages of
   * `pageRows` down the (served_at, id) index (keysetPage), `betweenPages` awaited after each.
   * As one query, or as pages planned from the statistics, Postgres read the whole window or
   * table and sorted it (~0.5 s of CPU on every core at once as one query, ~0.3 s a page),
   * once a minute, beside the api; down the index a page is a few ms.
   */
  async liveFeatureRows(
    modelVersion: string,
    since: Date,
    limit: number,
    { pageRows = LIVE_ROWS_PAGE, betweenPages }: { pageRows?: number; betweenPages?: () => Promise<void> } = {},
  ): Promise<LiveFeatureRow[]> {
    const out: LiveFeatureRow[] = [];
    // The keyset as Postgres prints it: a JS Date would drop served_at's microseconds.
    let after: { servedAt: string; id: string } | null = null;
    while (out.length < limit) {
      const take = Math.min(pageRows, limit - out.length);
      // The features in binary (see decodeFloat4ArraySend): a text real[] costs the worker more than twice the CPU to parse.
      const rows: LiveRow[] = await keysetPage<LiveRow>(
        this.db,
        `SELECT id, served_at::text AS "servedAt", array_send(features) AS features, user_id AS "userId", video_id AS "videoId"
           FROM impressions
          WHERE served_at >= $1 AND model_version = $2 AND features IS NOT NULL
            ${after ? 'AND (served_at, id) < ($4::timestamptz, $5::bigint)' : ''}
          ORDER BY served_at DESC, id DESC
          LIMIT $3`,
        after ? [since, modelVersion, take, after.servedAt, after.id] : [since, modelVersion, take],
      );
      for (const r of rows) out.push({ features: decodeFloat4ArraySend(r.features), userId: r.userId, videoId: r.videoId });
      if (rows.length < take || out.length >= limit) break;
      const last = rows[rows.length - 1];
      after = { servedAt: last.servedAt, id: last.id };
      await betweenPages?.();
    }
    return out;
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
