import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Item-to-item neighbours written by each training run: one row per run, the video ids
 * once (`video_ids`) and the neighbour lists as packed little-endian arrays indexing
 * into them (CSR: `offsets` int32 per video + 1, `neighbours` int32, `co` and `next`
 * float32 per neighbour, `engagements` float32 per video), so an api loads a run with
 * one row instead of a row per video.
 */
export class ItemNeighbours1764000500000 implements MigrationInterface {
  name = 'ItemNeighbours1764000500000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE item_neighbours (
        version text PRIMARY KEY,
        created_at timestamptz NOT NULL DEFAULT now(),
        video_ids text[] NOT NULL,
        offsets bytea NOT NULL,
        neighbours bytea NOT NULL,
        co bytea NOT NULL,
        next bytea NOT NULL,
        engagements bytea NOT NULL
      )`);
    await q.query(`CREATE INDEX item_neighbours_created_at ON item_neighbours (created_at DESC)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE item_neighbours`);
  }
}
