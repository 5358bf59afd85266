import { topK } from './top-k';

describe(topK.name, () => {
  it('returns the k largest, largest first', () => {
    const items = Array.from({ length: 1000 }, (_, i) => (i * 7919) % 1000);
    expect(topK(items, 5, (x) => x)).toEqual([999, 998, 997, 996, 995]);
    expect(topK([3, 1, 2], 10, (x) => x)).toEqual([3, 2, 1]);
    expect(topK([3, 1, 2], 0, (x) => x)).toEqual([]);
  });
});
