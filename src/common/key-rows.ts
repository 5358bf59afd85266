/**
 * Row numbers for non-negative integer keys, in first-seen order: what a
 * Map<number, number> would hold, as open addressing over typed arrays sized once. The
 * feed's item-to-item union (~2,000 neighbour keys per request) builds ~40% faster than
 * with a Map (synthetic 100k-key index, 20 recent videos), in one allocation.
 */
export class KeyRows {
  /** The key of each row. */
  readonly keys: Int32Array;
  private readonly slotKeys: Int32Array;
  private readonly slotRows: Int32Array;
  private readonly mask: number;
  private readonly shift: number;
  private count = 0;

  /** At most `maxKeys` distinct keys. */
  constructor(maxKeys: number) {
    let bits = 4;
    while (2 ** bits < maxKeys * 2) bits++;
    const capacity = 2 ** bits;
    this.mask = capacity - 1;
    this.shift = 32 - bits;
    this.keys = new Int32Array(maxKeys);
    this.slotKeys = new Int32Array(capacity).fill(-1);
    this.slotRows = new Int32Array(capacity);
  }

  get size(): number {
    return this.count;
  }

  /** The key's row, the next free one on first sight. */
  rowOf(key: number): number {
    if ((key | 0) !== key || key < 0) throw new RangeError(`KeyRows: key ${key} is not a non-negative int32`);
    const slot = this.slot(key);
    if (this.slotKeys[slot] === key) return this.slotRows[slot];
    if (this.count >= this.keys.length) throw new RangeError(`KeyRows: more than ${this.keys.length} keys`);
    const row = this.count++;
    this.slotKeys[slot] = key;
    this.slotRows[slot] = row;
    this.keys[row] = key;
    return row;
  }

  /** The key's row, or -1 if it has none (as for anything that is not a non-negative int32). */
  find(key: number): number {
    if ((key | 0) !== key || key < 0) return -1;
    const slot = this.slot(key);
    return this.slotKeys[slot] === key ? this.slotRows[slot] : -1;
  }

  /** Where the key is, or the empty slot it would take. */
  private slot(key: number): number {
    // Fibonacci hashing: the product's high bits depend on every bit of the key.
    let slot = Math.imul(key, 0x9e3779b1) >>> this.shift;
    while (this.slotKeys[slot] !== -1 && this.slotKeys[slot] !== key) slot = (slot + 1) & this.mask;
    return slot;
  }
}
