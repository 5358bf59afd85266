import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The sequence model each training run fits: one row per run, the ONNX encoder (user
 * histories in, a user vector out) and the learned item vectors it scores candidates
 * with (float32, `dim` per video, in `video_ids` order), so an api loads it in one row.
 */
export class SequenceModels1764001600000 implements MigrationInterface {
  name = 'SequenceModels1764001600000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE sequence_models (
        version text PRIMARY KEY,
        created_at timestamptz NOT NULL DEFAULT now(),
        video_ids text[] NOT NULL,
        dim integer NOT NULL,
        max_length integer NOT NULL,
        encoder bytea NOT NULL,
        item_vectors bytea NOT NULL
      )`);
    await q.query(`CREATE INDEX sequence_models_created_at ON sequence_models (created_at DESC)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE sequence_models`);
  }
}
