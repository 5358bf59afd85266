import { activationDecision } from './activation-decision';

const m = (ndcg: number | null) => ({ hitRate: ndcg, ndcg });
const on = { autoPromote: true, minGain: 0 };

describe(activationDecision.name, () => {
  it('never activates a model that does not beat popularity when nothing known to serve instead loses to popularity too', () => {
    const d = activationDecision({ model: m(0.1), popularity: m(0.12), previous: null }, null, on);
    expect(d.promote).toBe(false);
    expect(d.decision).toContain('does not beat popularity');
    expect(d.decision).toContain('0.1000');
    expect(d.decision).toContain('0.1200');
    expect(activationDecision({ model: m(0.12), popularity: m(0.12), previous: null }, null, on).promote).toBe(false);
    expect(activationDecision({ model: m(null), popularity: m(0.12), previous: null }, null, on).promote).toBe(false);
  });

  it('activates a model that beats popularity when nothing is active', () => {
    const d = activationDecision({ model: m(0.2), popularity: m(0.12), previous: null }, null, on);
    expect(d).toEqual({ promote: true, decision: expect.stringContaining('vs popularity 0.1200') });
  });

  it('keeps the heuristic ranker serving when nothing is active and the model does not beat it', () => {
    const d = activationDecision({ model: m(0.2), popularity: m(0.12), previous: null, fallback: m(0.25) }, null, on);
    expect(d.promote).toBe(false);
    expect(d.decision).toContain("heuristic ranker's 0.2500");
    expect(activationDecision({ model: m(0.3), popularity: m(0.12), previous: null, fallback: m(0.25) }, null, on).promote).toBe(true);
  });

  it('replaces the active model only when it also beats it by more than the minimum gain', () => {
    expect(activationDecision({ model: m(0.2), popularity: m(0.1), previous: m(0.19) }, 'old', on).promote).toBe(true);
    expect(activationDecision({ model: m(0.2), popularity: m(0.1), previous: m(0.19) }, 'old', { ...on, minGain: 0.02 }).promote).toBe(false);
    const kept = activationDecision({ model: m(0.2), popularity: m(0.25), previous: m(0.3) }, 'old', on);
    expect(kept.promote).toBe(false);
    expect(kept.decision).toContain('old stays active');
  });

  it('below popularity, still replaces whatever serves when that is worse than popularity too', () => {
    // The heuristic ranker (0.14) serves and loses to popularity (0.20): a model at 0.19 is better than what serves.
    const d = activationDecision({ model: m(0.19), popularity: m(0.2), previous: null, fallback: m(0.14) }, null, on);
    expect(d.promote).toBe(true);
    expect(d.decision).toContain("popularity's 0.2000 beats both");
    // Not when it is worse than what serves, nor when what serves beats popularity.
    expect(activationDecision({ model: m(0.13), popularity: m(0.2), previous: null, fallback: m(0.14) }, null, on).promote).toBe(false);
    expect(activationDecision({ model: m(0.19), popularity: m(0.2), previous: null, fallback: m(0.21) }, null, on).promote).toBe(false);
    // The same with an active model below popularity.
    expect(activationDecision({ model: m(0.19), popularity: m(0.2), previous: m(0.1) }, 'old', on).promote).toBe(true);
    expect(activationDecision({ model: m(0.19), popularity: m(0.2), previous: m(0.1) }, 'old', { ...on, minGain: 0.1 }).promote).toBe(false);
  });

  it('registers only, when auto-promotion is off', () => {
    expect(activationDecision({ model: m(0.9), popularity: m(0.1), previous: null }, null, { ...on, autoPromote: false }).promote).toBe(false);
  });
});
