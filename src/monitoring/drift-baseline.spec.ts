import { Rng } from '../../seed/random';
import {
  binDistribution,
  binFractions,
  binIndex,
  clusteredSampleSize,
  computeBaseline,
  normalUpperQuantile,
  parseBaseline,
  psi,
  psiNoiseFloor,
  thinnestDistribution,
} from './drift-baseline';

const normals = (rng: Rng, n: number, mean = 0, sd = 1) => Float64Array.from({ length: n }, () => mean + sd * rng.normal());

describe('drift baseline', () => {
  it('cuts a continuous feature into 10 bins of equal mass', () => {
    const values = Float64Array.from({ length: 1000 }, (_, i) => i);
    const d = binDistribution(values, 10);
    expect(d.edges).toEqual([99.5, 199.5, 299.5, 399.5, 499.5, 599.5, 699.5, 799.5, 899.5]);
    expect(d.fractions).toEqual(new Array(10).fill(0.1));
  });

  it('keeps repeated values in one bin (flags, counts) with distinct edges', () => {
    const values = [...new Array(70).fill(0), ...new Array(30).fill(1)];
    const d = binDistribution(values, 10);
    expect(d.edges).toEqual([0.001, 1.001]);
    expect(d.fractions).toEqual([0.7, 0.3, 0]);
  });

  it('keeps near-equal values in one bin, so timing noise around a point mass is no drift', () => {
    // a count of 10 decayed over the ~1 s before each request, and a few cold users
    const base = [...Array.from({ length: 900 }, (_, i) => Math.log1p(10 * Math.exp(-(1 + i / 900) / 3600))), ...new Array(100).fill(6.58)];
    const d = binDistribution(base, 10);
    expect(d.edges).toHaveLength(1);
    expect(d.fractions).toEqual([0.9, 0.1]);
    const slower = [...Array.from({ length: 900 }, (_, i) => Math.log1p(10 * Math.exp(-(2 + i / 300) / 3600))), ...new Array(100).fill(6.58)];
    expect(psi(d, slower)).toBeLessThan(0.01);
  });

  it('puts a value on an edge in the bin that edge closes', () => {
    expect(binIndex([0, 1], -5)).toBe(0);
    expect(binIndex([0, 1], 0)).toBe(0);
    expect(binIndex([0, 1], 0.5)).toBe(1);
    expect(binIndex([0, 1], 1)).toBe(1);
    expect(binIndex([0, 1], 2)).toBe(2);
    expect(binFractions([0, 1], [NaN, Infinity, 0, 2])).toEqual([0.5, 0, 0.5]);
  });

  it('builds a baseline per feature column and per head, and survives a JSON round trip', () => {
    const rng = new Rng(7);
    const n = 2000;
    const rows = new Float32Array(n * 2);
    for (let i = 0; i < n; i++) {
      rows[i * 2] = rng.normal();
      rows[i * 2 + 1] = rng.next() < 0.2 ? 1 : 0;
    }
    const like = Float64Array.from({ length: n }, () => rng.next());
    const baseline = computeBaseline(['a', 'flag'], rows, { like });
    expect(baseline.sampleSize).toBe(n);
    expect(Object.keys(baseline.features)).toEqual(['a', 'flag']);
    expect(baseline.features.a.fractions).toHaveLength(10);
    expect(baseline.features.flag.edges).toEqual([0.001, 1.001]);
    expect(baseline.scores.like.fractions.reduce((s, f) => s + f, 0)).toBeCloseTo(1, 10);
    expect(parseBaseline(JSON.parse(JSON.stringify(baseline)))).toEqual(baseline);
  });

  it('records how many independent values each distribution rests on when told each row\'s user and video', () => {
    const rng = new Rng(8);
    const n = 2000;
    const rows = new Float32Array(n * 2);
    const user = Int32Array.from({ length: n }, (_, i) => i % 100);
    const video = Int32Array.from({ length: n }, (_, i) => i);
    const userValue = Array.from({ length: 100 }, () => rng.normal());
    for (let i = 0; i < n; i++) {
      rows[i * 2] = userValue[user[i]];
      rows[i * 2 + 1] = rng.normal();
    }
    const baseline = computeBaseline(['per_user', 'per_row'], rows, {}, 10, { user, video });
    expect(baseline.features.per_user.independent).toBeCloseTo(100, 5);
    expect(baseline.features.per_row.independent).toBeGreaterThan(1500);
    expect(parseBaseline(JSON.parse(JSON.stringify(baseline)))).toEqual(baseline);
    expect(() => computeBaseline(['a'], new Float32Array(3), {}, 10, { user: [0, 1], video: [0, 1, 2] })).toThrow(/a user and a video for each of the 3 rows/);
  });

  it('rejects inputs that do not line up', () => {
    expect(() => computeBaseline(['a', 'b'], new Float32Array(3), {})).toThrow(/multiple of 2/);
    expect(() => computeBaseline(['a'], new Float32Array(3), { like: [1, 2] })).toThrow(/scores.like has 2 values for 3 rows/);
    expect(() => computeBaseline([], new Float32Array(0), {})).toThrow(/must not be empty/);
  });

  it('tells a malformed stored baseline from a usable one', () => {
    expect(parseBaseline(undefined)).toBeNull();
    expect(parseBaseline({ version: 1, features: {}, scores: {} })).toBeNull();
    expect(parseBaseline({ version: 1, features: { a: { edges: [1], fractions: [1] } }, scores: {} })).toBeNull();
    expect(parseBaseline({ version: 1, features: { a: { edges: [1], fractions: [0.5, 0.5] } }, scores: {} })).not.toBeNull();
    expect(parseBaseline({ version: 1, features: { a: { edges: [1], fractions: [0.5, 0.5], independent: 0 } }, scores: {} })).toBeNull();
  });
});

describe('psi', () => {
  const rng = new Rng(42);
  const baseline = binDistribution(normals(rng, 20_000), 10);

  it('is near zero for a fresh sample of the same distribution', () => {
    expect(psi(baseline, normals(rng, 5000))).toBeLessThan(0.02);
  });

  it('is exactly zero when live matches the baseline bins', () => {
    const values = Float64Array.from({ length: 1000 }, (_, i) => i);
    expect(psi(binDistribution(values), values)).toBeCloseTo(0, 12);
  });

  it('exceeds 0.2 when the distribution shifts by half a standard deviation or more', () => {
    const small = psi(baseline, normals(rng, 5000, 0.1));
    const shifted = psi(baseline, normals(rng, 5000, 0.5));
    const wider = psi(baseline, normals(rng, 5000, 0, 2));
    expect(small).toBeLessThan(0.1);
    expect(shifted).toBeGreaterThan(0.2);
    expect(wider).toBeGreaterThan(0.2);
    expect(shifted).toBeGreaterThan(small);
  });

  it('flags values the baseline never produced (a flag that used to be always 0)', () => {
    const flag = binDistribution(new Array(1000).fill(0));
    expect(psi(flag, [...new Array(500).fill(0), ...new Array(500).fill(1)])).toBeGreaterThan(1);
  });

  it('is NaN without a single finite live value', () => {
    expect(psi(baseline, [NaN])).toBeNaN();
  });
});

describe(psiNoiseFloor.name, () => {
  const rng = new Rng(11);
  const baseline = binDistribution(normals(rng, 5000));
  /** 1,000 impressions from `users` users: a per-user feature repeats its user's value on each of them. */
  const perUserSample = (users: number, mean = 0) =>
    Array.from(normals(rng, users, mean)).flatMap((v) => new Array<number>(Math.round(1000 / users)).fill(v));

  it('covers the PSI that a few dozen users reach by chance, far above 0.2, and no real shift', () => {
    const floor = psiNoiseFloor(10, 40, 5000);
    // Counted as 1,000 values (what the check did), chance alone goes far past 0.2.
    expect(Math.max(...Array.from({ length: 20 }, () => psi(baseline, perUserSample(40))))).toBeGreaterThan(0.2);
    const unshifted = Array.from({ length: 50 }, () => psi(baseline, perUserSample(40), { live: 40, baseline: 5000 }));
    expect(unshifted.filter((v) => v > floor)).toEqual([]);
    const shifted = Array.from({ length: 20 }, () => psi(baseline, perUserSample(40, 1.5), { live: 40, baseline: 5000 }));
    expect(shifted.filter((v) => v <= floor)).toEqual([]);
  });

  it('shrinks with the number of independent values', () => {
    expect(psiNoiseFloor(10, 40, 5000)).toBeGreaterThan(0.5);
    expect(psiNoiseFloor(10, 1000, 5000)).toBeLessThan(0.04);
    expect(psiNoiseFloor(10, 100_000, 100_000)).toBeLessThan(0.001);
    expect(psiNoiseFloor(3, 1000, 5000)).toBeLessThan(psiNoiseFloor(10, 1000, 5000));
  });

  it('rises with the number of distributions one check compares, so the check as a whole rarely alerts by chance', () => {
    expect(psiNoiseFloor(10, 1000, 5000, 33)).toBeGreaterThan(1.2 * psiNoiseFloor(10, 1000, 5000));
    // 60 checks of 33 distributions each, 300 live values against a (near-exact) baseline: none passes by chance
    const rng = new Rng(21);
    const base = binDistribution(normals(rng, 200_000));
    const floor = psiNoiseFloor(10, 300, 200_000, 33);
    const over = Array.from({ length: 60 * 33 }, () => psi(base, normals(rng, 300), { live: 300, baseline: 200_000 })).filter((v) => v > floor);
    expect(over).toEqual([]);
  });
});

describe(normalUpperQuantile.name, () => {
  it('matches the normal table', () => {
    expect(normalUpperQuantile(0.5)).toBeCloseTo(0, 3);
    expect(normalUpperQuantile(0.025)).toBeCloseTo(1.96, 3);
    expect(normalUpperQuantile(0.001)).toBeCloseTo(3.0902, 3);
    expect(normalUpperQuantile(1e-6)).toBeCloseTo(4.7534, 3);
    expect(() => normalUpperQuantile(0.7)).toThrow(RangeError);
  });
});

describe(clusteredSampleSize.name, () => {
  const rng = new Rng(31);

  it('counts a value repeated through each cluster once per cluster, and unclustered values once each', () => {
    const clusters = Int32Array.from({ length: 1000 }, (_, i) => i % 40);
    const perCluster = Array.from({ length: 40 }, () => rng.normal());
    expect(clusteredSampleSize(Array.from(clusters, (c) => perCluster[c]), clusters)).toBeCloseTo(40, 6);
    const independent = clusteredSampleSize(normals(rng, 1000), clusters);
    expect(independent).toBeGreaterThan(800);
    expect(independent).toBeLessThanOrEqual(1000);
    expect(clusteredSampleSize(normals(rng, 50), Int32Array.from({ length: 50 }, (_, i) => i))).toBe(50);
  });

  it('weighs a big cluster by its share of the sample: 1 cluster of 500 and 500 of 1 are worth ~4 values, not 501', () => {
    // the sample's share of anything is half the big cluster's value: variance as of 1e6 / (500^2 + 500) values
    const clusters = Int32Array.from({ length: 1000 }, (_, i) => (i < 500 ? 0 : i - 499));
    const perCluster = normals(rng, 501);
    expect(clusteredSampleSize(Array.from(clusters, (c) => perCluster[c]), clusters)).toBeCloseTo(1e6 / 250_500, 6);
  });

  it('counts values that only partly follow their cluster in between', () => {
    const clusters = Int32Array.from({ length: 2000 }, (_, i) => i % 100);
    const perCluster = normals(rng, 100);
    // intra-cluster correlation 0.5, 20 values a cluster: design effect 1 + 19 x 0.5
    const values = Array.from(clusters, (c) => perCluster[c] + rng.normal());
    const n = clusteredSampleSize(values, clusters);
    expect(n).toBeGreaterThan(2000 / 10.5 / 1.5);
    expect(n).toBeLessThan(2000 / 10.5 * 1.5);
  });

  it('is 1 for a single cluster and 0 for no value', () => {
    expect(clusteredSampleSize([1, 2, 3], [0, 0, 0])).toBe(1);
    expect(clusteredSampleSize([], [])).toBe(0);
  });
});

describe(thinnestDistribution.name, () => {
  const distribution = (bins: number, independent?: number) => ({
    edges: Array.from({ length: bins - 1 }, (_, i) => i),
    fractions: Array.from({ length: bins }, () => 1 / bins),
    independent,
  });
  const reference = (features: Record<string, ReturnType<typeof distribution>>, scores = {}) => ({ version: 1 as const, sampleSize: 1000, features, scores });

  it('passes a reference whose every distribution has 2 independent values per bin', () => {
    expect(thinnestDistribution(reference({ a: distribution(10, 20), b: distribution(2, 4), c: distribution(10) }, { like: distribution(10, 500) }))).toBeNull();
  });

  it('names the distribution furthest below what it needs, scores included', () => {
    expect(thinnestDistribution(reference({ a: distribution(10, 19), b: distribution(3, 3) }))).toEqual({ key: 'feature b', independent: 3, needed: 6 });
    expect(thinnestDistribution(reference({ a: distribution(10, 19) }, { like: distribution(10, 5) }))).toEqual({ key: 'score like', independent: 5, needed: 20 });
  });
});
