import { isStuck, STUCK_AFTER_MS } from './stuck-worker';

describe('isStuck', () => {
  const now = 1_000_000;
  it('flags a worker idle past the limit while its shard has jobs waiting', () => {
    expect(isStuck({ running: 0, lastActivityAt: now - STUCK_AFTER_MS }, 43, now)).toBe(true);
  });
  it('leaves alone a worker with nothing to do, one running jobs, or one active recently', () => {
    expect(isStuck({ running: 0, lastActivityAt: now - 10 * STUCK_AFTER_MS }, 0, now)).toBe(false);
    expect(isStuck({ running: 2, lastActivityAt: now - 10 * STUCK_AFTER_MS }, 43, now)).toBe(false);
    expect(isStuck({ running: 0, lastActivityAt: now - STUCK_AFTER_MS + 1 }, 43, now)).toBe(false);
  });
});
