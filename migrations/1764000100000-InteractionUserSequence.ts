import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Event ids are unique per user (clients generate them; two users may pick the same
 * id), and each logged event records the order in which the worker applied it to the
 * user's online state (`user_seq`), so a replay from the log rebuilds exactly that state.
 */
export class InteractionUserSequence1764000100000 implements MigrationInterface {
  name = 'InteractionUserSequence1764000100000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE interactions ADD COLUMN user_seq bigint NULL`);
    await q.query(`CREATE UNIQUE INDEX uq_interactions_user_event ON interactions (user_id, event_id)`);
    await q.query(`DROP INDEX uq_interactions_event`);
  }

  async down(q: QueryRunner): Promise<void> {
    // The old schema cannot hold one event id from two users: keep the first logged.
    await q.query(`DELETE FROM interactions a USING interactions b WHERE a.event_id = b.event_id AND a.id > b.id`);
    await q.query(`CREATE UNIQUE INDEX uq_interactions_event ON interactions (event_id)`);
    await q.query(`DROP INDEX uq_interactions_user_event`);
    await q.query(`ALTER TABLE interactions DROP COLUMN user_seq`);
  }
}
