import { MigrationInterface, QueryRunner } from 'typeorm';

export class InitialSchema1764000000000 implements MigrationInterface {
  name = 'InitialSchema1764000000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE users (
        id text PRIMARY KEY,
        display_name text NOT NULL,
        sim_traits jsonb,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE creators (
        id text PRIMARY KEY,
        name text NOT NULL,
        main_category text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE videos (
        id text PRIMARY KEY,
        creator_id text NOT NULL REFERENCES creators(id),
        title text NOT NULL,
        category text NOT NULL,
        tags text[] NOT NULL DEFAULT '{}',
        duration_ms integer NOT NULL CHECK (duration_ms > 0),
        embedding real[],
        status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'taken_down')),
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX idx_videos_creator ON videos (creator_id)`);
    await q.query(`CREATE INDEX idx_videos_fresh ON videos (created_at DESC) WHERE status = 'active'`);
    await q.query(`CREATE INDEX idx_videos_category_fresh ON videos (category, created_at DESC) WHERE status = 'active'`);
    await q.query(`CREATE INDEX idx_videos_updated ON videos (updated_at)`);
    await q.query(`
      CREATE TABLE follows (
        user_id text NOT NULL,
        creator_id text NOT NULL REFERENCES creators(id),
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (user_id, creator_id)
      )`);
    await q.query(`CREATE INDEX idx_follows_creator ON follows (creator_id)`);
    await q.query(`
      CREATE TABLE creator_blocks (
        user_id text NOT NULL,
        creator_id text NOT NULL REFERENCES creators(id),
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (user_id, creator_id)
      )`);
    await q.query(`
      CREATE TABLE interactions (
        id bigserial PRIMARY KEY,
        event_id text NOT NULL,
        user_id text NOT NULL,
        video_id text NOT NULL,
        type text NOT NULL,
        watch_ms integer,
        request_id text,
        occurred_at timestamptz NOT NULL,
        received_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE UNIQUE INDEX uq_interactions_event ON interactions (event_id)`);
    await q.query(`CREATE INDEX idx_interactions_user_time ON interactions (user_id, occurred_at)`);
    await q.query(`CREATE INDEX idx_interactions_time ON interactions (occurred_at)`);
    await q.query(`
      CREATE TABLE impressions (
        id bigserial PRIMARY KEY,
        request_id text NOT NULL,
        user_id text NOT NULL,
        video_id text NOT NULL,
        position integer NOT NULL,
        source text NOT NULL,
        score real,
        model_version text,
        features real[],
        served_at timestamptz NOT NULL
      )`);
    await q.query(`CREATE INDEX idx_impressions_time ON impressions (served_at)`);
    await q.query(`CREATE INDEX idx_impressions_user_time ON impressions (user_id, served_at)`);
    await q.query(`CREATE UNIQUE INDEX uq_impressions_request_position ON impressions (request_id, position)`);
    await q.query(`
      CREATE TABLE model_versions (
        id text PRIMARY KEY,
        status text NOT NULL CHECK (status IN ('candidate', 'active', 'shadow', 'retired')),
        artifact bytea NOT NULL,
        artifact_sha256 text NOT NULL,
        feature_spec jsonb NOT NULL,
        metrics jsonb NOT NULL DEFAULT '{}',
        training_info jsonb NOT NULL DEFAULT '{}',
        created_at timestamptz NOT NULL DEFAULT now(),
        activated_at timestamptz
      )`);
    await q.query(`CREATE UNIQUE INDEX uq_model_versions_one_active ON model_versions (status) WHERE status = 'active'`);
    await q.query(`
      CREATE TABLE drift_reports (
        id bigserial PRIMARY KEY,
        model_version text NOT NULL,
        computed_at timestamptz NOT NULL,
        psi jsonb NOT NULL,
        max_psi real NOT NULL,
        alert boolean NOT NULL,
        sample_size integer NOT NULL
      )`);
    await q.query(`CREATE INDEX idx_drift_reports_time ON drift_reports (computed_at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const table of [
      'drift_reports',
      'model_versions',
      'impressions',
      'interactions',
      'creator_blocks',
      'follows',
      'videos',
      'creators',
      'users',
    ]) {
      await q.query(`DROP TABLE IF EXISTS ${table}`);
    }
  }
}
