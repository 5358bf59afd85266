import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';

/** One training run's sequence model as stored: the ONNX encoder and the item vectors, with video ids. */
export interface StoredSequenceModel {
  version: string;
  videoIds: string[];
  dim: number;
  maxLength: number;
  /** ONNX: `items` and `types` int64 [N, maxLength] (model items are 1 + the index in videoIds; 0 pads) to `user` float [N, dim]. */
  encoder: Uint8Array;
  /** videoIds.length x dim float32: the vector each video is scored with (zeros for a video the model did not learn). */
  itemVectors: Float32Array;
}

/** Runs kept besides the newest, so an api loading while a new run is written still finds its row. */
const KEEP_PREVIOUS = 1;

/** Reads and writes the sequence_models table (one row per training run). */
@Injectable()
export class SequenceModelRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  async write(m: StoredSequenceModel): Promise<void> {
    await this.db.transaction(async (q) => {
      await q.query(
        `INSERT INTO sequence_models (version, video_ids, dim, max_length, encoder, item_vectors)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (version) DO UPDATE SET video_ids = EXCLUDED.video_ids, dim = EXCLUDED.dim, max_length = EXCLUDED.max_length,
           encoder = EXCLUDED.encoder, item_vectors = EXCLUDED.item_vectors, created_at = now()`,
        [m.version, m.videoIds, m.dim, m.maxLength, Buffer.from(m.encoder), Buffer.from(m.itemVectors.buffer, m.itemVectors.byteOffset, m.itemVectors.byteLength)],
      );
      await q.query(
        `DELETE FROM sequence_models WHERE version NOT IN (SELECT version FROM sequence_models ORDER BY created_at DESC, version DESC LIMIT $1)`,
        [1 + KEEP_PREVIOUS],
      );
    });
  }

  /** The newest run, or the named one; null when there is none. */
  async read(version?: string): Promise<StoredSequenceModel | null> {
    const rows: { version: string; video_ids: string[]; dim: number; max_length: number; encoder: Buffer; item_vectors: Buffer }[] = await this.db.query(
      version ? `SELECT * FROM sequence_models WHERE version = $1` : `SELECT * FROM sequence_models ORDER BY created_at DESC, version DESC LIMIT 1`,
      version ? [version] : [],
    );
    const r = rows[0];
    if (!r) return null;
    return {
      version: r.version,
      videoIds: r.video_ids,
      dim: r.dim,
      maxLength: r.max_length,
      encoder: new Uint8Array(r.encoder),
      // A copy: Postgres' buffers are not 4-byte aligned.
      itemVectors: new Float32Array(new Uint8Array(r.item_vectors).buffer),
    };
  }
}
