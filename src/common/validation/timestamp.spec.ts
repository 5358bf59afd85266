import { instantProblem, parseTimestamp, timestampProblem } from './timestamp';

describe('timestamps', () => {
  const window = { minMs: Date.UTC(2000, 0, 1), maxSkewMs: 300_000 };
  const now = Date.UTC(2026, 11, 3, 10, 0, 0);

  it('reads RFC 3339 date-times with an offset, and calendar dates as midnight UTC', () => {
    expect(parseTimestamp('2026-12-03T10:00:00Z')).toBe(now);
    expect(parseTimestamp('2026-12-03T11:00:00.000+01:00')).toBe(now);
    expect(parseTimestamp('2026-12-03T10:00:00.123456789z')).toBe(now + 123);
    expect(parseTimestamp('2026-12-03')).toBe(Date.UTC(2026, 11, 3));
  });

  it('refuses what Date.parse cannot read, reads differently, or rolls over', () => {
    for (const bad of ['2026-W49-4', '2026-337', '2026-12-03T10:00:00', '2026-02-31', '2026-12-03T24:00:00Z', '2026-12-03T10:60:00Z',
      '2026-12-03T10:00:00+24:00', '+002026-12-03T10:00:00Z', '20261203', '', ' 2026-12-03', 'NaN']) {
      expect([bad, parseTimestamp(bad)]).toEqual([bad, null]);
    }
    for (const notString of [null, undefined, 1764756000000, {}, ['2026-12-03']]) expect(parseTimestamp(notString)).toBeNull();
  });

  it('keeps instants inside the window: not before the minimum, not past the clock skew', () => {
    expect(instantProblem(now, now, window)).toBeNull();
    expect(instantProblem(now + 300_000, now, window)).toBeNull();
    expect(instantProblem(now + 300_001, now, window)).toBe('must not be more than 300000 ms in the future');
    expect(instantProblem(Date.UTC(1900, 0, 1), now, window)).toBe('must not be before 2000-01-01T00:00:00.000Z');
    expect(instantProblem(NaN, now, window)).toBe('must be a finite instant');
    expect(timestampProblem('9999-01-01T00:00:00Z', now, window)).toMatch(/future/);
    expect(timestampProblem(null, now, window)).toMatch(/^must be an RFC 3339 date-time/);
  });
});
