import { videoIdHash } from '../../catalog/video-id-hash';

/**
 * The ids a user must not be shown (watched, served this session, the client's), in an
 * open-addressing table of their videoIdHash values. A candidate is tested by the hash the
 * catalog keeps for its ordinal, so the common case (not excluded) reads no video object;
 * only an equal hash compares ids. Built per request for up to a few thousand ids: a
 * typed-array table sized once is several times cheaper to fill than a Map or Set.
 */
export class ExcludedIds {
  private readonly ids: string[] = [];
  private readonly hashes: Int32Array;
  /** Per table slot: 1 + the index of an id in `ids`, 0 for an empty slot (linear probing). */
  private readonly table: Int32Array;
  private readonly mask: number;

  constructor(...lists: Iterable<string>[]) {
    const all: string[] = [];
    for (const ids of lists) for (const id of ids) all.push(id);
    let capacity = 16;
    while (capacity < all.length * 2) capacity *= 2;
    this.table = new Int32Array(capacity);
    this.mask = capacity - 1;
    this.hashes = new Int32Array(all.length);
    for (const id of all) this.add(id);
  }

  get size(): number {
    return this.ids.length;
  }

  /** True if `video`, whose id hashes to `hash`, is excluded; its id is read only on an equal hash. */
  excludes(hash: number, video: { readonly id: string }): boolean {
    for (let i = this.slot(hash); this.table[i] !== 0; i = (i + 1) & this.mask) {
      const at = this.table[i] - 1;
      if (this.hashes[at] === hash && this.ids[at] === video.id) return true;
    }
    return false;
  }

  private add(id: string): void {
    const hash = videoIdHash(id);
    let i = this.slot(hash);
    for (; this.table[i] !== 0; i = (i + 1) & this.mask) {
      const at = this.table[i] - 1;
      if (this.hashes[at] === hash && this.ids[at] === id) return;
    }
    this.hashes[this.ids.length] = hash;
    this.ids.push(id);
    this.table[i] = this.ids.length;
  }

  private slot(hash: number): number {
    return (hash ^ (hash >>> 16)) & this.mask;
  }
}
