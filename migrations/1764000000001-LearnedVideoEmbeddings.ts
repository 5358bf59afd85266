import { MigrationInterface, QueryRunner } from 'typeorm';

/** Item embeddings learned from co-engagement, for videos the catalog gave no content vector. */
export class LearnedVideoEmbeddings1764000000001 implements MigrationInterface {
  name = 'LearnedVideoEmbeddings1764000000001';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE videos ADD COLUMN learned_embedding real[] NULL`);
    await q.query(`ALTER TABLE videos ADD COLUMN learned_embedding_version text NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE videos DROP COLUMN learned_embedding_version`);
    await q.query(`ALTER TABLE videos DROP COLUMN learned_embedding`);
  }
}
