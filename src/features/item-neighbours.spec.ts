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
