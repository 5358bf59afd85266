import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The time indexes of the log tables become (time, id), so reading them in time order
 * with keyset paging (training, drift checks) is an index range scan per page instead
 * of a sort of everything after the cursor. Same count of indexes as before.
 */
export class TimeKeysetIndexes1764000300000 implements MigrationInterface {
  name = 'TimeKeysetIndexes1764000300000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE INDEX idx_interactions_time_id ON interactions (occurred_at, id)`);
    await q.query(`DROP INDEX idx_interactions_time`);
    await q.query(`CREATE INDEX idx_impressions_time_id ON impressions (served_at, id)`);
    await q.query(`DROP INDEX idx_impressions_time`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`CREATE INDEX idx_impressions_time ON impressions (served_at)`);
    await q.query(`DROP INDEX idx_impressions_time_id`);
    await q.query(`CREATE INDEX idx_interactions_time ON interactions (occurred_at)`);
    await q.query(`DROP INDEX idx_interactions_time_id`);
  }
}
