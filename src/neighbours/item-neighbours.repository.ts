import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';

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

/** Runs kept besides the newest, so an api loading while a new run is written still finds its row. */
const KEEP_PREVIOUS = 1;

const bytes = (a: Int32Array | Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
/** A copy (Postgres' buffers are not 4-byte aligned). */
const int32s = (b: Buffer) => new Int32Array(new Uint8Array(b).buffer);
const float32s = (b: Buffer) => new Float32Array(new Uint8Array(b).buffer);

/** Reads and writes the item_neighbours table (one packed row per training run). */
@Injectable()
export class ItemNeighboursRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  async write(n: StoredNeighbours): Promise<void> {
    await this.db.transaction(async (q) => {
      await q.query(
        `INSERT INTO item_neighbours (version, video_ids, offsets, neighbours, co, next, engagements)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (version) DO UPDATE SET video_ids = EXCLUDED.video_ids, offsets = EXCLUDED.offsets,
           neighbours = EXCLUDED.neighbours, co = EXCLUDED.co, next = EXCLUDED.next, engagements = EXCLUDED.engagements, created_at = now()`,
        [n.version, n.videoIds, bytes(n.offsets), bytes(n.neighbours), bytes(n.co), bytes(n.next), bytes(n.engagements)],
      );
      await q.query(
        `DELETE FROM item_neighbours WHERE version NOT IN (SELECT version FROM item_neighbours ORDER BY created_at DESC, version DESC LIMIT $1)`,
        [1 + KEEP_PREVIOUS],
      );
    });
  }

  /** The newest run, or the named one; null when there is none. */
  async read(version?: string): Promise<StoredNeighbours | null> {
    const rows: { version: string; video_ids: string[]; offsets: Buffer; neighbours: Buffer; co: Buffer; next: Buffer; engagements: Buffer }[] =
      await this.db.query(
        version
          ? `SELECT * FROM item_neighbours WHERE version = $1`
          : `SELECT * FROM item_neighbours ORDER BY created_at DESC, version DESC LIMIT 1`,
        version ? [version] : [],
      );
    const r = rows[0];
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
