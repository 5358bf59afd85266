import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Drift reports also record checks that could not compute PSI (no active model, no
 * baseline, too few live impressions), the window they covered and the threshold used.
 */
export class DriftReportStatus1764000400000 implements MigrationInterface {
  name = 'DriftReportStatus1764000400000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE drift_reports ALTER COLUMN model_version DROP NOT NULL`);
    await q.query(`ALTER TABLE drift_reports ALTER COLUMN max_psi DROP NOT NULL`);
    await q.query(
      `ALTER TABLE drift_reports ADD COLUMN status text NOT NULL DEFAULT 'ok' CHECK (status IN ('ok', 'insufficient_data'))`,
    );
    await q.query(`ALTER TABLE drift_reports ADD COLUMN reason text NULL`);
    await q.query(`ALTER TABLE drift_reports ADD COLUMN window_start timestamptz NULL`);
    await q.query(`ALTER TABLE drift_reports ADD COLUMN threshold real NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DELETE FROM drift_reports WHERE model_version IS NULL OR max_psi IS NULL`);
    await q.query(`ALTER TABLE drift_reports DROP COLUMN threshold`);
    await q.query(`ALTER TABLE drift_reports DROP COLUMN window_start`);
    await q.query(`ALTER TABLE drift_reports DROP COLUMN reason`);
    await q.query(`ALTER TABLE drift_reports DROP COLUMN status`);
    await q.query(`ALTER TABLE drift_reports ALTER COLUMN max_psi SET NOT NULL`);
    await q.query(`ALTER TABLE drift_reports ALTER COLUMN model_version SET NOT NULL`);
  }
}
