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

/** Impressions per page of the drift check's read (~5-10 ms of Postgres each). */
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
   * `pageRows` impressions down the (served_at, id) index, `betweenPages` awaited after each,
   * the model and the features not in the WHERE clause: Postgres judges how many
   * rows match a model version by its statistics, which know nothing of a model newer than
   * the last ANALYZE, and then scanned the whole table in parallel workers and sorted it on
   * disk (~0.5 s of CPU on every core at once, once a minute, beside the api). On the time
   * range alone it scans the index (a few ms a page).
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
    for (;;) {
      // The features in binary (see decodeFloat4ArraySend: a text real[] costs the worker more than twice
      // the CPU to parse), null for another model's impression or one without: that filter is in the
      // select list, so the plan stays the time range down the index.
      const rows: { id: string; servedAt: string; features: Buffer | null; userId: string; videoId: string }[] = await this.db.query(
        `SELECT id, served_at::text AS "servedAt", user_id AS "userId", video_id AS "videoId",
                CASE WHEN model_version = $2 THEN array_send(features) END AS features
           FROM impressions
          WHERE served_at >= $1 ${after ? 'AND (served_at, id) < ($4::timestamptz, $5::bigint)' : ''}
          ORDER BY served_at DESC, id DESC
          LIMIT $3`,
        after ? [since, modelVersion, pageRows, after.servedAt, after.id] : [since, modelVersion, pageRows],
      );
      for (const r of rows) {
        if (r.features === null) continue;
        out.push({ features: decodeFloat4ArraySend(r.features), userId: r.userId, videoId: r.videoId });
        if (out.length >= limit) return out;
      }
      if (rows.length < pageRows) return out;
      const last = rows[rows.length - 1];
      after = { servedAt: last.servedAt, id: last.id };
      await betweenPages?.();
    }
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
