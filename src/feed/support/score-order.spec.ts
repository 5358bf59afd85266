import fc from 'fast-check';
import { bestByScore, LazyScoreOrder, orderByScore } from './score-order';

const byComparator = (scores: Float32Array) =>
  Array.from(scores, (_, i) => i).sort((a, b) => {
    const sa = Number.isNaN(scores[a]) ? -Infinity : scores[a];
    const sb = Number.isNaN(scores[b]) ? -Infinity : scores[b];
    return sb - sa || a - b;
  });

describe(orderByScore.name, () => {
  it('orders best first, equal scores by index', () => {
    const scores = Float32Array.from([0.5, 2, -1, 2, 0, -0, 3.25, -7.5, 0.5]);
    expect(Array.from(orderByScore(scores, scores.length))).toEqual([6, 1, 3, 0, 8, 4, 5, 2, 7]);
  });

  it('puts NaN last and keeps infinities in place', () => {
    const scores = Float32Array.from([NaN, -Infinity, 1, Infinity, NaN]);
    expect(Array.from(orderByScore(scores, scores.length))).toEqual([3, 2, 1, 0, 4]);
  });

  it('matches a comparator sort on random scores with ties and signs', () => {
    let seed = 7;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (let round = 0; round < 20; round++) {
      const scores = Float32Array.from({ length: 500 }, () => Math.round((random() - 0.5) * 200) / (random() < 0.5 ? 7 : 1e6));
      expect(Array.from(orderByScore(scores, scores.length))).toEqual(byComparator(scores));
    }
  });

  it('sorts only the first n scores, and refuses more than there are', () => {
    expect(Array.from(orderByScore(Float32Array.from([1, 3, 2, 99]), 3))).toEqual([1, 2, 0]);
    expect(() => orderByScore(Float32Array.from([1, 2]), 3)).toThrow(RangeError);
  });
});

describe(bestByScore.name, () => {
  it('is the first m of the whole order, ties and NaN included', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.integer({ min: -5, max: 5 }), fc.constant(NaN), fc.double({ noNaN: true })), { maxLength: 300 }), fc.nat(320), (values, m) => {
        const scores = Float32Array.from(values);
        const whole = Array.from(orderByScore(scores, scores.length));
        expect(Array.from(bestByScore(scores, scores.length, m))).toEqual(whole.slice(0, m));
        const lazy = new LazyScoreOrder(scores, scores.length, m);
        expect(Array.from({ length: scores.length }, (_, k) => lazy.at(k))).toEqual(whole);
      }),
    );
  });
});
