import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { readTrainingRun, writeTrainingRun } from '../database/training-runs';

/** One training run's neighbours with video ids (what is stored; serving maps the ids to its own keys). */
export interface StoredNeighbours {
  version: string;
  videoIds: string[];
  offsets: Int32Array;
  neighbours: Int32Array;
  co: Float32Array;
  next: Float32Array;
  engagements: Float32Array;
}

const bytes = (a: Int32Array | Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
/** A copy (Postgres' buffers are not 4-byte aligned). */
const int32s = (b: Buffer) => new Int32Array(new Uint8Array(b).buffer);
const float32s = (b: Buffer) => new Float32Array(new Uint8Array(b).buffer);

/** Reads and writes the item_neighbours table (one packed row per training run). */
@Injectable()
export class ItemNeighboursRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  write(n: StoredNeighbours): Promise<void> {
    return writeTrainingRun(this.db, 'item_neighbours', {
      version: n.version,
      video_ids: n.videoIds,
      offsets: bytes(n.offsets),
      neighbours: bytes(n.neighbours),
      co: bytes(n.co),
      next: bytes(n.next),
      engagements: bytes(n.engagements),
    });
  }

  /** The newest run, or the named one; null when there is none. */
  async read(version?: string): Promise<StoredNeighbours | null> {
    const r = await readTrainingRun<{ version: string; video_ids: string[]; offsets: Buffer; neighbours: Buffer; co: Buffer; next: Buffer; engagements: Buffer }>(
      this.db,
      'item_neighbours',
      version,
    );
    if (!r) return null;
    return {
      version: r.version,
      videoIds: r.video_ids,
      offsets: int32s(r.offsets),
      neighbours: int32s(r.neighbours),
      co: float32s(r.co),
      next: float32s(r.next),
      engagements: float32s(r.engagements),
    };
  }

  /** The newest run's version without its data. */
  async latestVersion(): Promise<string | null> {
    const rows: { version: string }[] = await this.db.query(`SELECT version FROM item_neighbours ORDER BY created_at DESC, version DESC LIMIT 1`);
    return rows[0]?.version ?? null;
  }
}
