import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Drift is judged against a reference window of live serving traffic: the binned
 * distributions of the first window a model served with enough independent values, kept
 * per model (one model's at a time). Reports say which reference they used and keep the
 * PSI against the training baseline apart, as training-serving skew that does not alert.
 * Reports written before this migration were judged against the training baseline.
 */
export class DriftLiveReference1764001500000 implements MigrationInterface {
  name = 'DriftLiveReference1764001500000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE drift_references (
        model_version text PRIMARY KEY,
        captured_at timestamptz NOT NULL,
        window_start timestamptz NOT NULL,
        sample_size integer NOT NULL,
        distributions jsonb NOT NULL
      )`);
    await q.query(
      `ALTER TABLE drift_reports ADD COLUMN reference text NOT NULL DEFAULT 'training' CHECK (reference IN ('training', 'live', 'pending'))`,
    );
    await q.query(`ALTER TABLE drift_reports ALTER COLUMN reference SET DEFAULT 'pending'`);
    await q.query(`ALTER TABLE drift_reports ADD COLUMN reference_captured_at timestamptz NULL`);
    await q.query(`ALTER TABLE drift_reports ADD COLUMN skew_psi jsonb NULL`);
    await q.query(`ALTER TABLE drift_reports ADD COLUMN max_skew_psi real NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE drift_reports DROP COLUMN max_skew_psi`);
    await q.query(`ALTER TABLE drift_reports DROP COLUMN skew_psi`);
    await q.query(`ALTER TABLE drift_reports DROP COLUMN reference_captured_at`);
    await q.query(`ALTER TABLE drift_reports DROP COLUMN reference`);
    await q.query(`DROP TABLE drift_references`);
  }
}
