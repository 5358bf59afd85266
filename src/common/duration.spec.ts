import { parseDuration } from './duration';

describe('parseDuration', () => {
  it('reads ms, s, m, h and d, and off', () => {
    expect(parseDuration('250ms')).toBe(250);
    expect(parseDuration('30s')).toBe(30_000);
    expect(parseDuration('1m')).toBe(60_000);
    expect(parseDuration('2h')).toBe(7_200_000);
    expect(parseDuration('1d')).toBe(86_400_000);
    expect(parseDuration('off')).toBeNull();
  });

  it('rejects anything else', () => {
    for (const bad of ['', '1', 'm', '1.5m', '-1s', '1 m']) expect(() => parseDuration(bad)).toThrow(/not a duration/);
  });
});
