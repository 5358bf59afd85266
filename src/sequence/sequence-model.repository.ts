import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { readTrainingRun, writeTrainingRun } from '../database/training-runs';

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

/** Reads and writes the sequence_models table (one row per training run). */
@Injectable()
export class SequenceModelRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  write(m: StoredSequenceModel): Promise<void> {
    return writeTrainingRun(this.db, 'sequence_models', {
      version: m.version,
      video_ids: m.videoIds,
      dim: m.dim,
      max_length: m.maxLength,
      encoder: Buffer.from(m.encoder),
      item_vectors: Buffer.from(m.itemVectors.buffer, m.itemVectors.byteOffset, m.itemVectors.byteLength),
    });
  }

  /** The newest run, or the named one; null when there is none. */
  async read(version?: string): Promise<StoredSequenceModel | null> {
    const r = await readTrainingRun<{ version: string; video_ids: string[]; dim: number; max_length: number; encoder: Buffer; item_vectors: Buffer }>(
      this.db,
      'sequence_models',
      version,
    );
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
