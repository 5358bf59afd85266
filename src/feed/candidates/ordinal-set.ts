/**
 * The catalog ordinals (integers >= 0) one request has offered to its candidate pool: an
 * open-addressing table (linear probing) in an Int32Array, sized for the expected count
 * and doubled past half full. A `Set` of the ~800 ordinals a feed offers rehashed as it
 * grew, about eight times per request, and was one of the feed's largest allocations.
 */
export class OrdinalSet {
  /** Per slot: ordinal + 1, 0 for an empty slot. */
  private table: Int32Array;
  private shift: number;
  private count = 0;

  constructor(expected = 8) {
    let bits = 4;
    while (1 << bits < expected * 2) bits++;
    this.table = new Int32Array(1 << bits);
    this.shift = 32 - bits;
  }

  get size(): number {
    return this.count;
  }

  /** Adds `ordinal` (an integer >= 0); false if it was there already. */
  add(ordinal: number): boolean {
    if (!(ordinal >= 0) || ordinal !== (ordinal | 0)) throw new RangeError(`OrdinalSet: ${ordinal} is not an ordinal`);
    const key = ordinal + 1;
    const mask = this.table.length - 1;
    let i = this.slot(ordinal);
    for (let k = this.table[i]; k !== 0; k = this.table[i]) {
      if (k === key) return false;
      i = (i + 1) & mask;
    }
    this.table[i] = key;
    if (++this.count * 2 > this.table.length) this.grow();
    return true;
  }

  has(ordinal: number): boolean {
    const key = ordinal + 1;
    const mask = this.table.length - 1;
    for (let i = this.slot(ordinal), k = this.table[i]; k !== 0; i = (i + 1) & mask, k = this.table[i]) if (k === key) return true;
    return false;
  }

  /** Fibonacci hashing: consecutive ordinals (a list of new uploads) spread over the table. */
  private slot(ordinal: number): number {
    return Math.imul(ordinal, 0x9e3779b1) >>> this.shift;
  }

  private grow(): void {
    const old = this.table;
    this.table = new Int32Array(old.length * 2);
    this.shift--;
    this.count = 0;
    for (const key of old) if (key !== 0) this.add(key - 1);
  }
}
