import { AppConfig, ConfigValidationError, loadConfig } from './app-config';
import { exitOnConfigError } from './exit-on-config-error';

function problemsOf(env: NodeJS.ProcessEnv): string[] {
  try {
    loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigValidationError) return err.problems;
    throw err;
  }
  throw new Error('expected loadConfig to reject the environment');
}

describe(loadConfig.name, () => {
  it('gives working local defaults for an empty environment', () => {
    const config = loadConfig({});
    expect(config).toBeInstanceOf(AppConfig);
    expect(config).toMatchObject({
      NODE_ENV: 'development',
      PORT: 3000,
      DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/reelrank',
      REDIS_URL: 'redis://127.0.0.1:6379',
      REDIS_PREFIX: 'rr',
      DEMO_MODE: false,
      EVENTS_MAX_BATCH: 500,
    });
  });

  it('reads numbers, booleans and strings from the environment', () => {
    const config = loadConfig({
      PORT: '8080',
      DEMO_MODE: 'true',
      FEED_BUDGET_MS: '12.5',
      REDIS_PREFIX: 'staging',
      REDIS_CLUSTER_NODES: 'r1:7000,r2:7001',
    });
    expect(config.PORT).toBe(8080);
    expect(config.DEMO_MODE).toBe(true);
    expect(config.FEED_BUDGET_MS).toBe(12.5);
    expect(config.REDIS_PREFIX).toBe('staging');
    expect(config.REDIS_CLUSTER_NODES).toBe('r1:7000,r2:7001');
  });

  it('treats an empty variable as unset', () => {
    expect(loadConfig({ PORT: '', JWT_JWKS_URL: '' }).PORT).toBe(3000);
  });

  it('names every bad variable, not just the first', () => {
    const problems = problemsOf({
      PORT: 'eighty',
      DATABASE_URL: 'mysql://localhost/reelrank',
      REDIS_PREFIX: 'Has Spaces',
      JWT_SECRET: 'short',
      NODE_ENV: 'staging',
    });
    const names = problems.map((p) => p.split('=')[0]).sort();
    expect(names).toEqual(['DATABASE_URL', 'JWT_SECRET', 'NODE_ENV', 'PORT', 'REDIS_PREFIX']);
    expect(problems.find((p) => p.startsWith('DATABASE_URL'))).toContain('must be a postgres:// URL');
  });

  it('rejects numbers out of range', () => {
    expect(problemsOf({ PORT: '70000', EVENTS_CONCURRENCY: '0' }).map((p) => p.split('=')[0]).sort()).toEqual([
      'EVENTS_CONCURRENCY',
      'PORT',
    ]);
  });

  it('puts the variable names in the error message', () => {
    expect(() => loadConfig({ EMBEDDING_DIM: '2' })).toThrow(/Invalid configuration:\n\s+- EMBEDDING_DIM=2: /);
  });
});

describe(exitOnConfigError.name, () => {
  it('prints the bad variables and exits with EX_CONFIG (78)', () => {
    const exit = jest.spyOn(process, 'exit').mockImplementation(((code?: number) => {
      throw new Error(`exit ${code}`);
    }) as typeof process.exit);
    const stderr = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      expect(() => exitOnConfigError(() => loadConfig({ PORT: 'x' }))).toThrow('exit 78');
      expect(exit).toHaveBeenCalledWith(78);
      expect(String(stderr.mock.calls[0][0])).toMatch(/Invalid configuration:[\s\S]*PORT="x"/);
    } finally {
      exit.mockRestore();
      stderr.mockRestore();
    }
  });

  it('returns the config when it is valid and rethrows other errors', () => {
    expect(exitOnConfigError(() => loadConfig({})).PORT).toBe(3000);
    expect(() =>
      exitOnConfigError(() => {
        throw new Error('boom');
      }),
    ).toThrow('boom');
  });
});

describe('feed shape settings', () => {
  it('takes source shares, the category cap and the number of top categories', () => {
    const config = loadConfig({ FEED_SOURCES: 'ann:0.5, fresh:0', FEED_MAX_CATEGORY_SHARE: '0.5', FEED_TOP_CATEGORIES: '5' });
    expect(config).toMatchObject({ FEED_SOURCES: 'ann:0.5, fresh:0', FEED_MAX_CATEGORY_SHARE: 0.5, FEED_TOP_CATEGORIES: 5 });
    expect(loadConfig({})).toMatchObject({ FEED_SOURCES: '', FEED_MAX_CATEGORY_SHARE: 0.35, FEED_TOP_CATEGORIES: 3 });
  });

  it('rejects a malformed FEED_SOURCES or a share out of range', () => {
    expect(problemsOf({ FEED_SOURCES: 'ann=0.3' })[0]).toContain("FEED_SOURCES must look like ann:0.3,trending:0.2,fresh:0");
    expect(problemsOf({ FEED_SOURCES: 'ann:-1' }).map((p) => p.split('=')[0])).toEqual(['FEED_SOURCES']);
    expect(problemsOf({ FEED_MAX_CATEGORY_SHARE: '0', FEED_TOP_CATEGORIES: '0' }).map((p) => p.split('=')[0]).sort()).toEqual([
      'FEED_MAX_CATEGORY_SHARE',
      'FEED_TOP_CATEGORIES',
    ]);
  });
});
