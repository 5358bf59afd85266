import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';

export interface ActiveModelHead {
  id: string;
  artifactSha256: string;
}

export interface ModelArtifact extends ActiveModelHead {
  artifact: Buffer;
  featureSpec: unknown;
}

/** Reads the model registry (model_versions) for serving. */
@Injectable()
export class ActiveModelRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /** The active version's id and checksum (cheap: no artifact), or null when none is active. */
  findActiveHead(): Promise<ActiveModelHead | null> {
    return this.findHead('active');
  }

  /** The shadow version (scored alongside the active one, or serving the A/B share), or null. */
  findShadowHead(): Promise<ActiveModelHead | null> {
    return this.findHead('shadow');
  }

  private async findHead(status: 'active' | 'shadow'): Promise<ActiveModelHead | null> {
    const rows: { id: string; artifact_sha256: string }[] = await this.db.query(
      `SELECT id, artifact_sha256 FROM model_versions WHERE status = $1 ORDER BY created_at DESC LIMIT 1`,
      [status],
    );
    return rows.length ? { id: rows[0].id, artifactSha256: rows[0].artifact_sha256 } : null;
  }

  async findArtifact(id: string): Promise<ModelArtifact | null> {
    const rows: { id: string; artifact_sha256: string; artifact: Buffer; feature_spec: unknown }[] = await this.db.query(
      `SELECT id, artifact_sha256, artifact, feature_spec FROM model_versions WHERE id = $1`,
      [id],
    );
    if (!rows.length) return null;
    const r = rows[0];
    return { id: r.id, artifactSha256: r.artifact_sha256, artifact: r.artifact, featureSpec: r.feature_spec };
  }
}
