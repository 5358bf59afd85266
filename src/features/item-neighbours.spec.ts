import { engagementStrength, HISTORY_ITEMS, historyItems, ItemNeighbours, UserHistory } from './item-neighbours';

/** 6 keys; 0's neighbours are 1 (strong) and 2, 3's are 2 and 4, 5 has none. */
function index(): ItemNeighbours {
  return ItemNeighbours.fromRows(
    6,
    new Map([
      [0, { ids: [2, 1], co: [1, 4], next: [0, 2] }],
      [3, { ids: [4, 2], co: [2, 1], next: [1, 0] }],
      [1, { ids: [0], co: [4], next: [0] }],
    ]),
    Float32Array.of(4, 4, 2, 2, 1, 1),
  );
}

const item = (key: number, weight = 3.5, category = 'c', creatorId = 'k') => ({ key, strength: engagementStrength(weight), category, creatorId });

describe(UserHistory.name, () => {
  it('finds neighbours by key in sorted rows', () => {
    const n = index();
    expect(n.find(0, 1)).toBeGreaterThanOrEqual(0);
    expect(n.co[n.find(0, 1)]).toBe(4);
    expect(n.find(0, 4)).toBe(-1);
    expect(n.find(5, 0)).toBe(-1);
    expect(n.find(99, 0)).toBe(-1);
  });

  it('gives the same signals one candidate at a time (training) as from the union of lists (serving)', () => {
    const items = [item(3), item(0, 0.5), item(1, -1)];
    const lookup = new UserHistory(index(), items);
    const union = new UserHistory(index(), items);
    union.accumulate();
    for (let key = 0; key < 6; key++) for (let s = 0; s < 4; s++) expect(union.value(key, s)).toBe(lookup.value(key, s));
    expect(lookup.value(4, 0)).toBeGreaterThan(0);
    expect(lookup.value(5, 0)).toBe(0);
  });

  it('on a larger random index, serving (union) and training (lookup) agree exactly, and best() is the plain sort of the positives', () => {
    let seed = 11;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const keys = 300;
    const rows = new Map<number, { ids: number[]; co: number[]; next: number[] }>();
    for (let key = 0; key < keys; key++) {
      const ids = [...new Set(Array.from({ length: Math.floor(random() * 25) }, () => Math.floor(random() * keys)))];
      rows.set(key, { ids, co: ids.map(() => random() * 5), next: ids.map(() => (random() < 0.5 ? 0 : random())) });
    }
    const engagements = Float32Array.from({ length: keys }, () => (random() < 0.1 ? 0 : 1 + Math.floor(random() * 50)));
    const neighbours = ItemNeighbours.fromRows(keys, rows, engagements);
    const items = Array.from({ length: HISTORY_ITEMS }, () => item(Math.floor(random() * keys), random() < 0.3 ? -1 : random() * 6));
    const lookup = new UserHistory(neighbours, items);
    const union = new UserHistory(neighbours, items);
    union.accumulate();
    for (let key = -1; key <= keys; key++) for (let s = 0; s < 4; s++) expect(union.value(key, s)).toBe(lookup.value(key, s));
    const score = (key: number) => lookup.value(key, 0) + lookup.value(key, 3);
    const positives = [...new Set(items.flatMap((it) => rows.get(it.key)!.ids))].filter((key) => score(key) > 0);
    const plain = positives.map((key, i) => ({ key, i })).sort((a, b) => score(b.key) - score(a.key) || a.i - b.i).map((e) => e.key);
    expect(new UserHistory(neighbours, items).best(40)).toEqual(plain.slice(0, 40));
  });

  it('weighs recent videos more, and ranks their neighbours first', () => {
    // The most recent video (3) leads to 4 (strongly) and 2; an older one (0) to 1 and 2.
    const history = new UserHistory(index(), [item(3), item(0)]);
    const best = history.best(10);
    expect(best[0]).toBe(4);
    const older = new UserHistory(index(), [item(0), item(3)]).best(10);
    expect(older[0]).toBe(1);
    expect(best).toEqual(expect.arrayContaining([1, 2, 4]));
    expect(history.value(4, 0)).toBeGreaterThan(0);
    // "next": 1 followed 0, 4 followed 3.
    expect(history.value(1, 3)).toBeGreaterThan(0);
    expect(history.value(2, 3)).toBe(0);
  });

  it('pushes neighbours of skipped videos down', () => {
    const history = new UserHistory(index(), [item(3, -1)]);
    expect(history.value(4, 0)).toBeLessThan(0);
    expect(history.best(10)).toEqual([]);
  });

  it('shares of category and creator among the recent videos, recency-weighted', () => {
    const history = new UserHistory(null, [item(0, 3.5, 'dance', 'a'), item(1, 3.5, 'cooking', 'b')]);
    expect(history.categoryShare('dance')).toBeGreaterThan(history.categoryShare('cooking'));
    expect(history.categoryShare('dance') + history.categoryShare('cooking')).toBeCloseTo(1);
    expect(history.creatorShare('a')).toBe(history.categoryShare('dance'));
    expect(history.value(1, 0)).toBe(0);
  });

  it('reads at most HISTORY_ITEMS recent videos, most recent first, skipping unknown ones', () => {
    const recent = Array.from({ length: 30 }, (_, i): [string, number, number] => [`v${i}`, 1, i]);
    const items = historyItems(recent, (id) => (id === 'v28' ? null : { key: Number(id.slice(1)), category: 'c', creatorId: 'k' }));
    expect(items).toHaveLength(HISTORY_ITEMS);
    expect(items[0].key).toBe(29);
    expect(items[1].key).toBe(27);
  });
});
