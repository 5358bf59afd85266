import { retryDelay, retrySchedule } from './retry-schedule';

describe('retrySchedule', () => {
  const defaults = { firstDelayMs: 250, maxDelayMs: 5000, budgetMs: 60_000, minAttempts: 8 };

  it('outlasts a 60 s failover with the default settings, with no wait longer than the cap', () => {
    const s = retrySchedule(defaults);
    expect(s.delays.slice(0, 6)).toEqual([250, 500, 1000, 2000, 4000, 5000]);
    expect(Math.max(...s.delays)).toBe(5000);
    expect(s.totalDelayMs).toBeGreaterThanOrEqual(60_000);
    expect(s.totalDelayMs - s.delays[s.delays.length - 1]).toBeLessThan(60_000); // no attempt more than needed
    expect(s.attempts).toBe(17);
    expect(s.delays).toHaveLength(s.attempts - 1);
  });

  it('keeps the minimum attempts when the budget needs fewer', () => {
    const s = retrySchedule({ ...defaults, budgetMs: 0 });
    expect(s.attempts).toBe(8);
    expect(s.totalDelayMs).toBe(250 + 500 + 1000 + 2000 + 4000 + 5000 + 5000);
  });

  it('grows with the budget', () => {
    expect(retrySchedule({ ...defaults, budgetMs: 120_000 }).attempts).toBe(29);
    expect(retrySchedule({ ...defaults, budgetMs: 120_000 }).totalDelayMs).toBeGreaterThanOrEqual(120_000);
  });

  it('gives BullMQ the same delay for each attempt as the schedule', () => {
    const s = retrySchedule(defaults);
    s.delays.forEach((d, i) => expect(retryDelay(i + 1, defaults)).toBe(d));
  });
});
