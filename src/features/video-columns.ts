import { keepTouched, touchRows } from '../common/touch-rows';
import { CatalogVideo } from './catalog-video';
import { computeVideoRow, VIDEO_ROW_FEATURES } from './feature-registry';
import { VideoStats } from './video-stats';

const INITIAL_CAPACITY = 1024;

/**
 * What the feature matrix reads for each candidate, copied into dense typed arrays
 * indexed by a slot per video: its video-only features (`computeVideoRow`) and its
 * embedding. A request ranks hundreds of videos picked from anywhere in the catalog;
 * read through their objects, every candidate costs several cache misses (object,
 * embedding view, its buffer, stats object), which made the matrix 3-5x slower than
 * its arithmetic. Read from here, a candidate's row and embedding are two short runs of
 * contiguous memory; its category and creator are interned ids, so the user x video
 * features look them up in per-request arrays instead of string-keyed maps.
 *
 * The owner picks the slots: the feed's stats cache uses each video's catalog ordinal,
 * so the table grows to the largest ordinal it was given.
 */
export class VideoColumns {
  readonly rowWidth = VIDEO_ROW_FEATURES.length;
  rows: Float32Array;
  /** `dim` values per slot; zeros where the video has no embedding of `dim` values. */
  embeddings: Float32Array;
  /** The slot's upload time (epoch ms). */
  createdAt: Float64Array;
  /** The slot's category and creator, as ids interned in `categoryIds` / `creatorIds`. */
  categories: Int32Array;
  creators: Int32Array;
  readonly categoryIds = new Map<string, number>();
  readonly creatorIds = new Map<string, number>();
  private capacity = 0;

  constructor(readonly dim: number) {
    this.rows = new Float32Array(0);
    this.embeddings = new Float32Array(0);
    this.createdAt = new Float64Array(0);
    this.categories = new Int32Array(0);
    this.creators = new Int32Array(0);
    this.grow(INITIAL_CAPACITY);
  }

  /** Puts `video`'s embedding, upload time, category and creator in `slot`; fill its row with `setRow`. */
  assign(slot: number, video: CatalogVideo): void {
    if (slot >= this.capacity) this.grow(Math.max(this.capacity * 2, slot + 1));
    const e = video.embedding;
    const has = e !== null && e.length === this.dim;
    if (has) this.embeddings.set(e, slot * this.dim);
    else this.embeddings.fill(0, slot * this.dim, (slot + 1) * this.dim);
    this.createdAt[slot] = video.createdAt;
    this.categories[slot] = intern(this.categoryIds, video.category);
    this.creators[slot] = intern(this.creatorIds, video.creatorId);
  }

  /** `value(category)` for every interned category, indexed by category id (read with `categories[slot]`). */
  perCategory(value: (category: string) => number): Float64Array {
    const out = new Float64Array(this.categoryIds.size);
    for (const [category, id] of this.categoryIds) out[id] = value(category);
    return out;
  }

  /** The interned ids of these creators (creators no slot has are left out). */
  creatorSet(creators: Iterable<string>): Set<number> {
    const out = new Set<number>();
    for (const c of creators) {
      const id = this.creatorIds.get(c);
      if (id !== undefined) out.add(id);
    }
    return out;
  }

  /** Computes the slot's video-only features from `stats`. */
  setRow(slot: number, video: CatalogVideo, stats: VideoStats): void {
    computeVideoRow(video, stats, this.rows.subarray(slot * this.rowWidth, (slot + 1) * this.rowWidth));
  }

  /**
   * Reads each slot's row, upload time, category and creator once, in one short loop
   * with many cache misses in flight (see touchRows), so the feature matrix's column
   * fills that follow find them cached.
   */
  touch(slots: Int32Array): void {
    const rows = this.rows;
    const w = this.rowWidth;
    let sum = 0;
    for (let i = 0; i < slots.length; i++) {
      const slot = slots[i];
      // A row's first and last values: the two cache lines it may straddle.
      if (slot < this.capacity) sum += rows[slot * w] + rows[slot * w + w - 1] + this.createdAt[slot] + this.categories[slot] + this.creators[slot];
    }
    keepTouched(sum);
  }

  /** The dot product of `user` with each slot's embedding (0 without one) into `out[i * width + j]`: the feature matrix's column. */
  dots(user: Float64Array, slots: Int32Array, out: Float32Array, width: number, j: number): void {
    const e = this.embeddings;
    const d = this.dim;
    if (user.length !== d) {
      for (let i = 0, o = j; i < slots.length; i++, o += width) out[o] = 0;
      return;
    }
    touchRows(e, slots, d);
    for (let i = 0, o = j; i < slots.length; i++, o += width) {
      // A slot without an embedding holds zeros (see `assign`): its dot product is 0.
      const slot = slots[i];
      let s = 0;
      for (let k = 0, at = slot * d; k < d; k++, at++) s += user[k] * e[at];
      out[o] = s;
    }
  }

  private grow(capacity: number): void {
    const rows = new Float32Array(capacity * this.rowWidth);
    rows.set(this.rows);
    const embeddings = new Float32Array(capacity * this.dim);
    embeddings.set(this.embeddings);
    const createdAt = new Float64Array(capacity);
    createdAt.set(this.createdAt);
    const categories = new Int32Array(capacity);
    categories.set(this.categories);
    const creators = new Int32Array(capacity);
    creators.set(this.creators);
    this.rows = rows;
    this.embeddings = embeddings;
    this.createdAt = createdAt;
    this.categories = categories;
    this.creators = creators;
    this.capacity = capacity;
  }
}

function intern(ids: Map<string, number>, value: string): number {
  let id = ids.get(value);
  if (id === undefined) ids.set(value, (id = ids.size));
  return id;
}

/** The candidates' slots in a VideoColumns, index-aligned with the request's videos. */
export interface CandidateColumns {
  table: VideoColumns;
  slots: Int32Array;
}
