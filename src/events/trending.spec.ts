import { addTrend, decayedTrend, decodeTrend, encodeTrend, logAddExp, TrendScores, trendIncrements } from './trending';

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

  it('decays the 30-day window with a 30-day time constant', () => {
    const day = 86_400_000;
    const like = trendIncrements('like', t0)!;
    const share = trendIncrements('share', t0 + 29 * day)!;
    const score = addTrend(addTrend(null, like), share)[2];
    // At t0 + 30 days: the like (weight 3) has decayed by e^-1, the share (weight 5) by e^-(1/30).
    expect(decayedTrend(score, t0 + 30 * day, '30d')).toBeCloseTo(3 * Math.exp(-1) + 5 * Math.exp(-1 / 30), 8);
    // The same events after a year: the score keeps growing, the value decays but stays finite.
    expect(decayedTrend(score, t0 + 365 * day, '30d')).toBeCloseTo((3 * Math.exp(-1) + 5 * Math.exp(-1 / 30)) * Math.exp(-335 / 30), 12);
  });

  it('orders the 30-day window by recent engagement where all-time counts would order by volume', () => {
    const day = 86_400_000;
    // 40 views two months ago against 10 views this week.
    const old = Array.from({ length: 40 }, (_, i) => trendIncrements('view', t0 - 60 * day + i * 60_000)!).reduce(addTrend);
    const recent = Array.from({ length: 10 }, (_, i) => trendIncrements('view', t0 - 5 * day + i * 60_000)!).reduce(addTrend);
    expect(recent[2]).toBeGreaterThan(old[2]);
    expect(decayedTrend(old[2], t0, '30d')).toBeCloseTo(40 * Math.exp(-2), 1);
  });

  it('gives the same scores folded per job (live) as folded per user across the log (replay)', () => {
    const videoEvents = Array.from({ length: 60 }, (_, i) => trendIncrements((['view', 'like', 'share', 'complete'] as const)[i % 4], t0 + ((i * 7919) % 60) * 3_600_000)!);
    // Live: the script folds each job's events into the stored record, jobs in whatever order they ran.
    const jobs = [videoEvents.slice(40), videoEvents.slice(0, 15), videoEvents.slice(15, 40)];
    let stored: TrendScores | null = null;
    for (const job of jobs) for (const inc of job) stored = addTrend(stored, inc);
    // Replay: one fold over the log in (user, seq) order.
    const replayed = [...videoEvents].reverse().reduce<TrendScores | null>((acc, inc) => addTrend(acc, inc), null)!;
    for (const i of [0, 1, 2]) expect(Math.abs(stored![i] - replayed[i])).toBeLessThan(1e-12 * Math.abs(replayed[i]));
    // 60 hours after the first event, every weight has decayed by at most e^-(60 h / 30 days).
    const sum = (videoEvents.length / 4) * (1 + 3 + 5 + 2);
    const at = t0 + 60 * 3_600_000;
    expect(decayedTrend(replayed[2], at, '30d')).toBeLessThan(sum);
    expect(decayedTrend(replayed[2], at, '30d')).toBeGreaterThan(sum * Math.exp(-60 / (30 * 24)));
  });

  it('packs the three windows into 24 bytes', () => {
    const blob = encodeTrend([1.5, -2.25, 7.125]);
    expect(blob).toHaveLength(24);
    expect(decodeTrend(blob)).toEqual([1.5, -2.25, 7.125]);
    expect(decodeTrend(null)).toBeNull();
    expect(decodeTrend(Buffer.alloc(8))).toBeNull();
  });

  it('reads a 16-byte record from before the 30-day window with nothing counted in it yet', () => {
    const legacy = Buffer.alloc(16);
    legacy.writeDoubleLE(1.5, 0);
    legacy.writeDoubleLE(-2.25, 8);
    const decoded = decodeTrend(legacy)!;
    expect(decoded).toEqual([1.5, -2.25, -Infinity]);
    // The next event keeps the 1h and 24h history and starts the 30-day score at itself.
    const inc = trendIncrements('like', t0)!;
    const next = addTrend(decoded, inc);
    expect(next).toEqual([logAddExp(1.5, inc[0]), logAddExp(-2.25, inc[1]), inc[2]]);
    expect(decodeTrend(encodeTrend(next))).toEqual(next);
  });
});
