import { decayedTrend, decodeTrend, encodeTrend, logAddExp, trendIncrements } from './trending';

describe('trending scores', () => {
  const t0 = Date.UTC(2026, 10, 1);

  it('sums decayed weights in log space without overflowing', () => {
    const a = trendIncrements('like', t0)!;
    const b = trendIncrements('view', t0 + 3_600_000)!;
    const score = logAddExp(a[0], b[0]);
    // At t0 + 1h: the like (weight 3) has decayed by e^-1, the view (weight 1) not at all.
    expect(decayedTrend(score, t0 + 3_600_000, '1h')).toBeCloseTo(3 * Math.exp(-1) + 1, 8);
    expect(decayedTrend(logAddExp(a[1], b[1]), t0 + 3_600_000, '24h')).toBeCloseTo(3 * Math.exp(-1 / 24) + 1, 8);
    expect(Number.isFinite(score)).toBe(true);
  });

  it('ranks a burst of recent views above more, older ones', () => {
    const old = Array.from({ length: 10 }, (_, i) => trendIncrements('view', t0 - 6 * 3_600_000 + i)![0]).reduce(logAddExp);
    const recent = Array.from({ length: 3 }, (_, i) => trendIncrements('view', t0 + i)![0]).reduce(logAddExp);
    expect(recent).toBeGreaterThan(old);
  });

  it('does not count impressions, skips or negative actions', () => {
    for (const type of ['impression', 'skip', 'unlike', 'unfollow'] as const) expect(trendIncrements(type, t0)).toBeNull();
  });

  it('is order independent up to rounding', () => {
    const xs = Array.from({ length: 50 }, (_, i) => trendIncrements('share', t0 + ((i * 7919) % 50) * 60_000)![1]);
    const forward = xs.reduce(logAddExp);
    const backward = [...xs].reverse().reduce(logAddExp);
    expect(Math.abs(forward - backward)).toBeLessThan(1e-9);
  });

  it('packs both windows into 16 bytes', () => {
    expect(decodeTrend(encodeTrend([1.5, -2.25]))).toEqual([1.5, -2.25]);
    expect(decodeTrend(null)).toBeNull();
  });
});
