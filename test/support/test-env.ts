import { AppConfig } from '../../src/config/app-config';

/**
 * Where the integration and e2e tests run. TEST_DATABASE_URL picks the database so
 * several people (or CI) can test side by side; each run gets its own Redis prefix.
 */
export const DEFAULT_TEST_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/reelrank_test';

export function testDatabaseUrl(): string {
  return process.env.TEST_DATABASE_URL || DEFAULT_TEST_DATABASE_URL;
}

/** Settings the tests may take from the shell: where Redis and the broker are, and how much to log. */
const FROM_SHELL = new Set(['REDIS_URL', 'STREAM_RMQ_URL', 'LOG_LEVEL']);
/** AppConfig settings without a default value. */
const OPTIONAL = ['JWT_PUBLIC_KEY', 'JWT_JWKS_URL', 'REDIS_CLUSTER_NODES'];

/**
 * Points the app config (DATABASE_URL, REDIS_PREFIX, ...) at the test stores. Runs once
 * per test run, in global setup. Every other setting of the app starts from its default,
 * whatever the shell exports (a fork's ADMIN_API_KEY, JWT_SECRET, FEED_SOURCES...): tests
 * that need a value set it themselves.
 */
export function applyTestEnv(env: NodeJS.ProcessEnv = process.env): void {
  for (const name of [...Object.keys(new AppConfig()), ...OPTIONAL]) if (!FROM_SHELL.has(name)) delete env[name];
  env.NODE_ENV = 'test';
  env.DATABASE_URL = testDatabaseUrl();
  env.REDIS_PREFIX = `rrtest-${process.pid}`;
  env.LOG_LEVEL = env.LOG_LEVEL || 'warn';
  // Scheduled drift checks would add a repeatable job to every worker a test starts.
  env.DRIFT_CHECK_EVERY = env.DRIFT_CHECK_EVERY || 'off';
  // Every test talks from 127.0.0.1: one IP budget would be shared by all suites of a run.
  // The rate-limit tests switch limits on for their own apps.
  env.THROTTLE_ENABLED = env.THROTTLE_ENABLED || 'false';
  // Tests write a video's stats and expect the next feed to rank by them; the near
  // cache has its own tests, which switch it on.
  env.FEED_STATS_MAX_AGE_MS = env.FEED_STATS_MAX_AGE_MS || '0';
  // Every training run fits three sequence models; on the default budget that is most of
  // a test's time. The sequence model's own tests check what it learns.
  env.TRAIN_SEQUENCE_POSITIONS = env.TRAIN_SEQUENCE_POSITIONS || '20000';
  // Several workers may run at once in one test process: no fixed metrics port.
  env.WORKER_METRICS_PORT = env.WORKER_METRICS_PORT || '0';
}

/** The Redis prefix of the current test run (set by global setup). */
export function testRedisPrefix(): string {
  const prefix = process.env.REDIS_PREFIX;
  if (!prefix?.startsWith('rrtest-')) {
    throw new Error('REDIS_PREFIX is not a test prefix: run integration and e2e tests through jest.config.js');
  }
  return prefix;
}
