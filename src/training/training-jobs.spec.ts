import { parseDuration } from './training-jobs';

describe('parseDuration', () => {
  it('reads off and unit-suffixed durations', () => {
    expect(parseDuration('off')).toBeNull();
    expect(parseDuration('30m')).toBe(1_800_000);
    expect(parseDuration('2h')).toBe(7_200_000);
    expect(parseDuration('1d')).toBe(86_400_000);
    expect(parseDuration('1500ms')).toBe(1500);
    expect(() => parseDuration('0m')).toThrow(/positive/);
    expect(() => parseDuration('soon')).toThrow(/bad duration/);
  });
});
