import { KeyRows } from './key-rows';

describe(KeyRows.name, () => {
  it('gives each key the row a Map in first-seen order would', () => {
    let seed = 3;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31);
    const keys = Array.from({ length: 5000 }, (_, i) => (i % 3 === 0 ? i * 1024 : random() % 100_000));
    const rows = new KeyRows(keys.length);
    const map = new Map<number, number>();
    for (const key of keys) {
      if (!map.has(key)) map.set(key, map.size);
      expect(rows.rowOf(key)).toBe(map.get(key));
    }
    expect(rows.size).toBe(map.size);
    expect(Array.from(rows.keys.subarray(0, rows.size))).toEqual([...map.keys()]);
    for (let key = 0; key < 100_000; key += 7) expect(rows.find(key)).toBe(map.get(key) ?? -1);
    expect(rows.find(-1)).toBe(-1);
  });

  it('refuses more keys than it was sized for, and keys that are not non-negative integers (found nowhere)', () => {
    const rows = new KeyRows(2);
    rows.rowOf(0);
    rows.rowOf(5);
    expect(rows.rowOf(5)).toBe(1);
    expect(() => rows.rowOf(9)).toThrow(RangeError);
    expect(() => rows.rowOf(1.5)).toThrow(RangeError);
    expect([rows.find(2 ** 40), rows.find(NaN), rows.find(0.5)]).toEqual([-1, -1, -1]);
  });
});
