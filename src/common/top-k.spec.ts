import { topK, topKIndices } from './top-k';

/** The plain version: a full sort, ties in index order. */
const bySort = (keys: Float64Array, k: number) =>
  Array.from(keys, (_, i) => i)
    .sort((a, b) => keys[b] - keys[a] || a - b)
    .slice(0, Math.max(0, k));

describe(topK.name, () => {
  it('returns the k largest, largest first', () => {
    const items = Array.from({ length: 1000 }, (_, i) => (i * 7919) % 1000);
    expect(topK(items, 5, (x) => x)).toEqual([999, 998, 997, 996, 995]);
    expect(topK([3, 1, 2], 10, (x) => x)).toEqual([3, 2, 1]);
    expect(topK([3, 1, 2], 0, (x) => x)).toEqual([]);
    expect(topK(['a', 'b', 'c', 'd'], 2, () => 1)).toEqual(['a', 'b']);
    expect(topK(Array.from({ length: 100_000 }, (_, i) => i), 3, (x) => x)).toEqual([99_999, 99_998, 99_997]);
  });

  it('picks what a full sort picks, on random, tied, sorted and reversed keys', () => {
    let seed = 42;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const inputs = [
      Float64Array.from({ length: 5000 }, () => random() * 100 - 50),
      Float64Array.from({ length: 5000 }, () => Math.floor(random() * 7)),
      Float64Array.from({ length: 3000 }, (_, i) => i),
      Float64Array.from({ length: 3000 }, (_, i) => -i),
      Float64Array.from({ length: 2000 }, (_, i) => (i % 2 ? 0 : -0)),
      new Float64Array(1000).fill(3),
    ];
    for (const keys of inputs) {
      const before = keys.slice();
      for (const k of [1, 2, 10, 500, keys.length - 1, keys.length, keys.length + 5]) expect(topKIndices(keys, k)).toEqual(bySort(keys, k));
      expect(keys).toEqual(before);
    }
  });

  it('with NaN keys, cuts where a typed-array sort would (NaN last)', () => {
    const keys = Float64Array.from([5, NaN, 1, 4, NaN, 3]);
    // Ascending sort: 1 3 4 5 NaN NaN; the 2 largest are the NaNs, which no key is >=.
    expect(topKIndices(keys, 2)).toEqual([]);
    expect(topKIndices(keys, 4)).toEqual([0, 3]);
  });
});
