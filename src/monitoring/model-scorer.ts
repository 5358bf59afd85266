import { Injectable, OnApplicationShutdown } from '@nestjs/common';
import type { FeatureSpec } from '../features';
import { OnnxModelSession, SERVING_SESSION_OPTIONS } from '../models/onnx-session';

const CHUNK_ROWS = 4096;

/**
 * Runs a registered model over logged feature rows, so drift monitoring sees each
 * head's score distribution on live traffic (impressions store one blended score).
 * Keeps the session of the last model it scored with. One thread, as the api's sessions:
 * onnxruntime's default pool spins a thread per core, which the worker shares with the api.
 */
@Injectable()
export class ModelScorer implements OnApplicationShutdown {
  private cached: { key: string; session: OnnxModelSession } | null = null;

  /** Per head (in `spec.heads` order), the model's output for every row of `matrix`; `betweenChunks` is awaited after each CHUNK_ROWS rows. */
  async score(
    model: { id: string; artifactSha256: string; artifact: Buffer },
    spec: FeatureSpec,
    matrix: Float32Array,
    betweenChunks?: () => Promise<void>,
  ): Promise<Record<string, Float32Array>> {
    const heads = spec.heads.length;
    const rows = matrix.length / spec.features.length;
    const session = await this.session(model, spec);
    const scores = await session.runChunked(matrix, rows, CHUNK_ROWS, betweenChunks);
    const out: Record<string, Float32Array> = Object.fromEntries(spec.heads.map((h) => [h, new Float32Array(rows)]));
    spec.heads.forEach((head, h) => {
      const column = out[head];
      for (let i = 0; i < rows; i++) column[i] = scores[i * heads + h];
    });
    return out;
  }

  private async session(model: { id: string; artifactSha256: string; artifact: Buffer }, spec: FeatureSpec): Promise<OnnxModelSession> {
    const key = `${model.id}:${model.artifactSha256}`;
    if (this.cached?.key === key) return this.cached.session;
    const session = await OnnxModelSession.open(new Uint8Array(model.artifact), spec, SERVING_SESSION_OPTIONS);
    const previous = this.cached;
    this.cached = { key, session };
    await previous?.session.release();
    return session;
  }

  async onApplicationShutdown(): Promise<void> {
    await this.cached?.session.release();
    this.cached = null;
  }
}
