import { auc, aucPerHead, hitRateAtK, logLoss, ndcgAtK } from './metrics';

describe('auc', () => {
  it('is 1 for a perfect ranking and 0 for a reversed one', () => {
    expect(auc([0.1, 0.4, 0.35, 0.8], [0, 0, 0, 1])).toBe(1);
    expect(auc([0.9, 0.1], [0, 1])).toBe(0);
  });

  it('matches the pair count on a mixed case', () => {
    // positives 0.8, 0.4; negatives 0.35, 0.1, 0.5 -> pairs won: 0.8 beats 3, 0.4 beats 2 = 5 of 6
    expect(auc([0.8, 0.4, 0.35, 0.1, 0.5], [1, 1, 0, 0, 0])).toBeCloseTo(5 / 6, 12);
  });

  it('counts ties as half', () => {
    expect(auc([0.5, 0.5], [1, 0])).toBe(0.5);
    // positive 0.5 ties one negative, beats 0.2 -> 1.5 of 2
    expect(auc([0.5, 0.5, 0.2], [1, 0, 0])).toBe(0.75);
  });

  it('equals the brute-force pair count on random scores with many ties', () => {
    let seed = 7;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const scores = Array.from({ length: 400 }, () => Math.round(rand() * 20) / 20);
    const labels = scores.map((s) => (rand() < s ? 1 : 0));
    let won = 0;
    let pairs = 0;
    scores.forEach((sp, i) => {
      if (!labels[i]) return;
      scores.forEach((sn, j) => {
        if (labels[j]) return;
        pairs++;
        won += sp > sn ? 1 : sp === sn ? 0.5 : 0;
      });
    });
    expect(auc(scores, labels)).toBeCloseTo(won / pairs, 12);
  });

  it('is NaN when a class is missing and throws on length mismatch', () => {
    expect(auc([0.1, 0.2], [1, 1])).toBeNaN();
    expect(() => auc([0.1], [1, 0])).toThrow(RangeError);
  });
});

describe('aucPerHead', () => {
  it('splits row-major scores by head and honours the mask', () => {
    // rows: [0.9, 0.1], [0.2, 0.8], [0.3, 0.7]
    const scores = [0.9, 0.1, 0.2, 0.8, 0.3, 0.7];
    const labels = [0, 1, 0, 0, 1, 0];
    // head 0: positive 0.3 beats 0.2, loses to 0.9; head 1: positive 0.1 loses to both
    expect(aucPerHead(scores, labels, 2)).toEqual([0.5, 0]);
    // masking head 0 of row 0 removes the negative that outranked the positive
    expect(aucPerHead(scores, labels, 2, [0, 1, 1, 1, 1, 1])).toEqual([1, 0]);
    expect(() => aucPerHead(scores, labels, 4)).toThrow(RangeError);
  });
});

describe('logLoss', () => {
  it('averages binary cross-entropy', () => {
    const expected = -(Math.log(0.8) + Math.log(1 - 0.3)) / 2;
    expect(logLoss([0.8, 0.3], [1, 0])).toBeCloseTo(expected, 12);
  });

  it('clips certain wrong predictions instead of returning Infinity', () => {
    const loss = logLoss([0, 1], [1, 0]);
    expect(Number.isFinite(loss)).toBe(true);
    expect(loss).toBeCloseTo(-Math.log(1e-7), 6);
  });
});

describe('hitRateAtK', () => {
  const ranked = [
    ['a', 'b', 'c'],
    ['d', 'e', 'f'],
    ['g', 'h', 'i'],
  ];
  const relevant = [new Set(['c']), new Set(['x']), new Set(['g', 'h'])];

  it('counts queries with a relevant item in the top k', () => {
    expect(hitRateAtK(ranked, relevant, 1)).toBeCloseTo(1 / 3, 12);
    expect(hitRateAtK(ranked, relevant, 3)).toBeCloseTo(2 / 3, 12);
  });

  it('skips queries without relevant items and validates input', () => {
    expect(hitRateAtK([['a'], ['b']], [new Set(['a']), new Set()], 1)).toBe(1);
    expect(hitRateAtK([['a']], [new Set()], 1)).toBeNaN();
    expect(() => hitRateAtK(ranked, relevant, 0)).toThrow(RangeError);
    expect(() => hitRateAtK(ranked, relevant.slice(1), 1)).toThrow(RangeError);
  });
});

describe('ndcgAtK', () => {
  it('matches a hand-computed value', () => {
    // relevant at ranks 2 and 3 of 3: dcg = 1/log2(3) + 1/log2(4); idcg = 1 + 1/log2(3)
    const dcg = 1 / Math.log2(3) + 0.5;
    const idcg = 1 + 1 / Math.log2(3);
    expect(ndcgAtK([['a', 'b', 'c']], [new Set(['b', 'c'])], 3)).toBeCloseTo(dcg / idcg, 12);
  });

  it('is 1 for an ideal ranking, 0 for a miss, and averages over queries', () => {
    expect(ndcgAtK([['a', 'b', 'x']], [new Set(['a', 'b'])], 3)).toBe(1);
    expect(ndcgAtK([['x', 'y']], [new Set(['a'])], 2)).toBe(0);
    expect(ndcgAtK([['a'], ['x']], [new Set(['a']), new Set(['a'])], 1)).toBe(0.5);
  });

  it('caps the ideal gain at k and does not reward duplicates', () => {
    // 3 relevant items but k = 1: a hit at rank 1 is already ideal
    expect(ndcgAtK([['a', 'b']], [new Set(['a', 'b', 'c'])], 1)).toBe(1);
    const once = 1 / (1 + 1 / Math.log2(3));
    expect(ndcgAtK([['a', 'a']], [new Set(['a', 'b'])], 2)).toBeCloseTo(once, 12);
  });
});
