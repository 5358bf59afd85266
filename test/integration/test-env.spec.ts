import { loadConfig } from '../../src/config/app-config';
import { applyTestEnv } from '../support/test-env';

describe(applyTestEnv.name, () => {
  it("runs the tests with the app's defaults, whatever secrets and settings the shell exports", () => {
    const shell: NodeJS.ProcessEnv = {
      ADMIN_API_KEY: 'my-fork-admin-key',
      JWT_SECRET: 'my-fork-secret-0123456789',
      JWT_JWKS_URL: 'https://auth.example.com/jwks.json',
      FEED_SOURCES: 'fresh:0',
      DEMO_MODE: 'true',
      REDIS_URL: 'redis://10.0.0.5:6379',
      PATH: '/usr/bin',
    };
    applyTestEnv(shell);
    const config = loadConfig(shell);
    const defaults = loadConfig({});
    expect(config.ADMIN_API_KEY).toBe(defaults.ADMIN_API_KEY);
    expect(config.JWT_SECRET).toBe(defaults.JWT_SECRET);
    expect(config.JWT_JWKS_URL).toBeUndefined();
    expect(config.FEED_SOURCES).toBe('');
    expect(config.DEMO_MODE).toBe(false);
    expect(config.NODE_ENV).toBe('test');
    expect(config.REDIS_PREFIX).toMatch(/^rrtest-/);
    // Where Redis is still comes from the shell, and the rest of the environment is untouched.
    expect(shell.REDIS_URL).toBe('redis://10.0.0.5:6379');
    expect(shell.PATH).toBe('/usr/bin');
  });
});
