import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { ModelStatus } from '../database/entities/model-version.entity';

/** A registry row without its artifact bytes. */
export interface ModelVersionSummary {
  id: string;
  status: ModelStatus;
  artifactSha256: string;
  artifactBytes: number;
  featureSpec: Record<string, unknown>;
  metrics: Record<string, unknown>;
  trainingInfo: Record<string, unknown>;
  createdAt: Date;
  activatedAt: Date | null;
}

export interface ModelVersionWithArtifact extends ModelVersionSummary {
  artifact: Buffer;
}

export interface NewModelVersion {
  id: string;
  status: Extract<ModelStatus, 'candidate' | 'shadow'>;
  artifact: Buffer;
  artifactSha256: string;
  featureSpec: Record<string, unknown>;
  metrics: Record<string, unknown>;
  trainingInfo: Record<string, unknown>;
}

interface Row {
  id: string;
  status: ModelStatus;
  artifact_sha256: string;
  artifact_bytes: number;
  feature_spec: Record<string, unknown>;
  metrics: Record<string, unknown>;
  training_info: Record<string, unknown>;
  created_at: Date;
  activated_at: Date | null;
  artifact?: Buffer;
}

const SUMMARY_COLUMNS = `id, status, artifact_sha256, octet_length(artifact) AS artifact_bytes, feature_spec, metrics,
  training_info, created_at, activated_at`;

export interface VariantRow {
  modelVersion: string | null;
  users: number;
  impressions: number;
  exposed: number;
  engaged: number;
  likes: number;
  completes: number;
  shares: number;
  skips: number;
}

/** Serialises activations so two concurrent ones cannot both retire the same row and collide on the one-active index. */
const ACTIVATION_LOCK = 7_640_003;

function toSummary(row: Row): ModelVersionSummary {
  return {
    id: row.id,
    status: row.status,
    artifactSha256: row.artifact_sha256,
    artifactBytes: Number(row.artifact_bytes),
    featureSpec: row.feature_spec,
    metrics: row.metrics,
    trainingInfo: row.training_info,
    createdAt: row.created_at,
    activatedAt: row.activated_at,
  };
}

/** model_versions: the registry of ranker versions (artifact, feature spec, metrics, status). */
@Injectable()
export class ModelVersionRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  async list(): Promise<ModelVersionSummary[]> {
    const rows: Row[] = await this.db.query(`SELECT ${SUMMARY_COLUMNS} FROM model_versions ORDER BY created_at DESC, id DESC`);
    return rows.map(toSummary);
  }

  async find(id: string): Promise<ModelVersionSummary | null> {
    const rows: Row[] = await this.db.query(`SELECT ${SUMMARY_COLUMNS} FROM model_versions WHERE id = $1`, [id]);
    return rows.length ? toSummary(rows[0]) : null;
  }

  async findByStatus(status: ModelStatus): Promise<ModelVersionWithArtifact[]> {
    const rows: Row[] = await this.db.query(
      `SELECT ${SUMMARY_COLUMNS}, artifact FROM model_versions WHERE status = $1 ORDER BY activated_at DESC NULLS LAST, created_at DESC`,
      [status],
    );
    return rows.map((r) => ({ ...toSummary(r), artifact: r.artifact! }));
  }

  /** Feature names of every version's spec, by id (to reuse feature vectors logged under a version). */
  async featureNamesById(): Promise<Map<string, string[]>> {
    const rows: { id: string; features: unknown }[] = await this.db.query(
      `SELECT id, feature_spec -> 'features' AS features FROM model_versions`,
    );
    const out = new Map<string, string[]>();
    for (const r of rows) if (Array.isArray(r.features)) out.set(r.id, r.features as string[]);
    return out;
  }

  async insert(row: NewModelVersion): Promise<ModelVersionSummary> {
    await this.db.query(
      `INSERT INTO model_versions (id, status, artifact, artifact_sha256, feature_spec, metrics, training_info)
       VALUES ($1, $2, $3, $4, $5, $6, $7)`,
      [
        row.id,
        row.status,
        row.artifact,
        row.artifactSha256,
        JSON.stringify(row.featureSpec),
        JSON.stringify(row.metrics),
        JSON.stringify(row.trainingInfo),
      ],
    );
    return (await this.find(row.id))!;
  }

  /**
   * In one transaction: retires the active version and makes `id` active.
   * Returns null (and changes nothing) when `id` does not exist.
   */
  async activate(id: string): Promise<ModelVersionSummary | null> {
    return this.db.transaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock($1)', [ACTIVATION_LOCK]);
      const exists: unknown[] = await tx.query('SELECT 1 FROM model_versions WHERE id = $1 FOR UPDATE', [id]);
      if (exists.length === 0) return null;
      await tx.query(`UPDATE model_versions SET status = 'retired' WHERE status = 'active' AND id <> $1`, [id]);
      await tx.query(
        `UPDATE model_versions SET status = 'active', activated_at = CASE WHEN status = 'active' THEN activated_at ELSE now() END
         WHERE id = $1`,
        [id],
      );
      return this.findIn(tx, id);
    });
  }

  /** The version that was active before the current one (latest activation among the others). */
  async previousActive(): Promise<ModelVersionSummary | null> {
    const rows: Row[] = await this.db.query(
      `SELECT ${SUMMARY_COLUMNS} FROM model_versions
       WHERE status <> 'active' AND activated_at IS NOT NULL
       ORDER BY activated_at DESC LIMIT 1`,
    );
    return rows.length ? toSummary(rows[0]) : null;
  }

  /**
   * Makes `id` the one shadow version (a previous shadow goes back to candidate).
   * Changes nothing and answers 'missing' or 'active' when `id` cannot be the shadow.
   */
  async setShadow(id: string): Promise<ModelVersionSummary | 'missing' | 'active'> {
    return this.db.transaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock($1)', [ACTIVATION_LOCK]);
      const [target]: { status: ModelStatus }[] = await tx.query('SELECT status FROM model_versions WHERE id = $1 FOR UPDATE', [id]);
      if (!target) return 'missing';
      if (target.status === 'active') return 'active';
      await tx.query(`UPDATE model_versions SET status = 'candidate' WHERE status = 'shadow' AND id <> $1`, [id]);
      await tx.query(`UPDATE model_versions SET status = 'shadow' WHERE id = $1`, [id]);
      return (await this.findIn(tx, id))!;
    });
  }

  async clearShadow(id: string): Promise<ModelVersionSummary | null> {
    const [, affected]: [unknown[], number] = await this.db.query(
      `UPDATE model_versions SET status = 'candidate' WHERE id = $1 AND status = 'shadow'`,
      [id],
    );
    return affected > 0 ? this.find(id) : null;
  }

  /**
   * Engagement per serving version (the A/B read-out): impressions served since `since`,
   * how many were seen (any event answering them) and the rates of each outcome among
   * those, from impressions joined with the interactions that carry their request id.
   */
  async variantReport(since: Date, labelWindowMinutes: number): Promise<VariantRow[]> {
    const rows: VariantRow[] = await this.db.query(
      `SELECT i.model_version AS "modelVersion",
              count(DISTINCT i.user_id)::int AS users,
              count(*)::int AS impressions,
              count(*) FILTER (WHERE o.exposed)::int AS exposed,
              count(*) FILTER (WHERE o.engaged)::int AS engaged,
              count(*) FILTER (WHERE o.liked)::int AS likes,
              count(*) FILTER (WHERE o.completed)::int AS completes,
              count(*) FILTER (WHERE o.shared)::int AS shares,
              count(*) FILTER (WHERE o.skipped)::int AS skips
       FROM impressions i
       LEFT JOIN LATERAL (
         SELECT true AS exposed,
                bool_or(x.type IN ('like', 'complete', 'share')) AS engaged,
                bool_or(x.type = 'like') AS liked,
                bool_or(x.type = 'complete') AS completed,
                bool_or(x.type = 'share') AS shared,
                bool_or(x.type = 'skip') AS skipped
         FROM interactions x
         WHERE x.user_id = i.user_id AND x.occurred_at >= i.served_at
           AND x.occurred_at < i.served_at + $2 * interval '1 minute'
           AND x.video_id = i.video_id AND x.request_id = i.request_id
         HAVING count(*) > 0
       ) o ON true
       WHERE i.served_at >= $1
       GROUP BY i.model_version
       ORDER BY impressions DESC`,
      [since, labelWindowMinutes],
    );
    return rows;
  }

  private async findIn(tx: EntityManager, id: string): Promise<ModelVersionSummary | null> {
    const rows: Row[] = await tx.query(`SELECT ${SUMMARY_COLUMNS} FROM model_versions WHERE id = $1`, [id]);
    return rows.length ? toSummary(rows[0]) : null;
  }
}
