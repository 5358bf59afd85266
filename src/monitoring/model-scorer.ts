import { Injectable, OnApplicationShutdown } from '@nestjs/common';
import { InferenceSession, Tensor } from 'onnxruntime-node';
import type { FeatureSpec } from '../features';

const CHUNK_ROWS = 4096;

/**
 * Runs a registered model over logged feature rows, so drift monitoring sees each
 * head's score distribution on live traffic (impressions store one blended score).
 * Keeps the session of the last model it scored with.
 */
@Injectable()
export class ModelScorer implements OnApplicationShutdown {
  private cached: { key: string; session: InferenceSession } | null = null;

  /** Per head (in `spec.heads` order), the model's output for every row of `matrix`. */
  async score(
    model: { id: string; artifactSha256: string; artifact: Buffer },
    spec: FeatureSpec,
    matrix: Float32Array,
  ): Promise<Record<string, Float32Array>> {
    const width = spec.features.length;
    const rows = matrix.length / width;
    const session = await this.session(model);
    const out: Record<string, Float32Array> = Object.fromEntries(spec.heads.map((h) => [h, new Float32Array(rows)]));
    for (let start = 0; start < rows; start += CHUNK_ROWS) {
      const n = Math.min(CHUNK_ROWS, rows - start);
      const input = new Tensor('float32', matrix.subarray(start * width, (start + n) * width), [n, width]);
      const result = (await session.run({ [spec.input]: input }))[spec.output];
      const data = result.data as Float32Array;
      const heads = result.dims[1] ?? 1;
      if (heads !== spec.heads.length) throw new Error(`model outputs ${heads} heads, its spec names ${spec.heads.length}`);
      spec.heads.forEach((head, h) => {
        const column = out[head];
        for (let i = 0; i < n; i++) column[start + i] = data[i * heads + h];
      });
    }
    return out;
  }

  private async session(model: { id: string; artifactSha256: string; artifact: Buffer }): Promise<InferenceSession> {
    const key = `${model.id}:${model.artifactSha256}`;
    if (this.cached?.key === key) return this.cached.session;
    const session = await InferenceSession.create(new Uint8Array(model.artifact));
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
