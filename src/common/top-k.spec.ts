import { topK } from './top-k';

describe(topK.name, () => {
  it('returns the k largest, largest first', () => {
    const items = Array.from({ length: 1000 }, (_, i) => (i * 7919) % 1000);
    expect(topK(items, 5, (x) => x)).toEqual([999, 998, 997, 996, 995]);
    expect(topK([3, 1, 2], 10, (x) => x)).toEqual([3, 2, 1]);
    expect(topK([3, 1, 2], 0, (x) => x)).toEqual([]);
    expect(topK(['a', 'b', 'c', 'd'], 2, () => 1)).toEqual(['a', 'b']);
    expect(topK(Array.from({ length: 100_000 }, (_, i) => i), 3, (x) => x)).toEqual([99_999, 99_998, 99_997]);
  });
});
