import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Where a bulk import of a history file got to: the last line whose rows are committed,
 * written in the same transaction as those rows, so an interrupted import resumes after it.
 */
export class ImportCheckpoints1764001400000 implements MigrationInterface {
  name = 'ImportCheckpoints1764001400000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE import_checkpoints (
        source text PRIMARY KEY,
        line bigint NOT NULL,
        rows_written bigint NOT NULL DEFAULT 0,
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE import_checkpoints`);
  }
}
