import { KeyRows } from '../common/key-rows';
import { topKIndices } from '../common/top-k';

/**
 * Each video's top co-engagement neighbours, in CSR form over dense keys (the catalog
 * index in training, the catalog ordinal in serving); a row's neighbours sorted by key.
 */
export class ItemNeighbours {
  constructor(
    /** keys + 1 offsets into the neighbour columns. */
    readonly offsets: Int32Array,
    readonly ids: Int32Array,
    /** Symmetric co-engagement: how often the two were engaged with close together in one user's history, nearer counting more. */
    readonly co: Float32Array,
    /** Directional: how often the neighbour was engaged with within a few steps after the key. */
    readonly next: Float32Array,
    /** Users who engaged with each key (what the co-engagement weights are normalised by). */
    readonly engagements: Float32Array,
  ) {}

  get keys(): number {
    return this.offsets.length - 1;
  }

  private entryEngagements: Float32Array | null = null;

  /**
   * `engagements` of each entry's neighbour, aligned with `ids`: serving reads them in row
   * order instead of at random over the catalog (a cache miss per neighbour, ~1/4 of the
   * item-to-item union's time). Built on first use.
   */
  get neighbourEngagements(): Float32Array {
    if (!this.entryEngagements) {
      const out = new Float32Array(this.ids.length);
      for (let at = 0; at < out.length; at++) out[at] = this.engagements[this.ids[at]] ?? NaN;
      this.entryEngagements = out;
    }
    return this.entryEngagements;
  }

  /** Position of `other` in `key`'s row, or -1. */
  find(key: number, other: number): number {
    if (key < 0 || key >= this.keys) return -1;
    let lo = this.offsets[key];
    let hi = this.offsets[key + 1] - 1;
    const ids = this.ids;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const v = ids[mid];
      if (v === other) return mid;
      if (v < other) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  }

  /** Builds the CSR form from per-key lists (each sorted here by neighbour key). */
  static fromRows(
    keys: number,
    rows: ReadonlyMap<number, { ids: ArrayLike<number>; co: ArrayLike<number>; next: ArrayLike<number> }>,
    engagements: Float32Array,
  ): ItemNeighbours {
    const offsets = new Int32Array(keys + 1);
    for (const [key, row] of rows) if (key >= 0 && key < keys) offsets[key + 1] = row.ids.length;
    for (let k = 0; k < keys; k++) offsets[k + 1] += offsets[k];
    const total = offsets[keys];
    const ids = new Int32Array(total);
    const co = new Float32Array(total);
    const next = new Float32Array(total);
    for (const [key, row] of rows) {
      if (key < 0 || key >= keys) continue;
      const order = Array.from({ length: row.ids.length }, (_, i) => i).sort((a, b) => row.ids[a] - row.ids[b]);
      let at = offsets[key];
      for (const i of order) {
        ids[at] = row.ids[i];
        co[at] = row.co[i];
        next[at] = row.next[i];
        at++;
      }
    }
    const counts = new Float32Array(keys);
    counts.set(engagements.subarray(0, Math.min(keys, engagements.length)));
    return new ItemNeighbours(offsets, ids, co, next, counts);
  }
}

/** The history signals each candidate gets, in this order. */
export const HISTORY_SIGNALS = ['similarity', 'similarityRecent', 'cooccurrence', 'next'] as const;
export type HistorySignal = (typeof HISTORY_SIGNALS)[number];
const SIGNALS = HISTORY_SIGNALS.length;
const [SIMILARITY, SIMILARITY_RECENT, COOCCURRENCE, NEXT] = [0, 1, 2, 3];

/** How many of the user's most recent videos are read, and how fast older ones count less. */
export const HISTORY_ITEMS = 20;
export const HISTORY_DECAY = 0.8;
export const HISTORY_NEXT_DECAY = 0.5;
export const HISTORY_RECENT_ITEMS = 3;

/** How much one recent video counts, from the summed event weights on it: engaged up (log-damped), skipped or unliked down. */
export function engagementStrength(weight: number): number {
  return weight > 0 ? 1 + Math.log1p(weight) : -1;
}

export interface HistoryItem {
  key: number;
  strength: number;
  category: string;
  creatorId: string;
}

/**
 * What the user's recent videos say about a candidate: recency-weighted item-to-item
 * scores over the co-engagement neighbours, plus category and creator shares of the
 * recent videos. Training reads one candidate at a time (`value`, a lookup per recent
 * video); serving unions the recent videos' neighbour lists once per request
 * (`accumulate`), which is also the item-to-item candidate source. Both sum the same
 * terms in the same order, so they give the same numbers.
 */
export class UserHistory {
  private readonly factors: Float64Array;
  private readonly categoryShares = new Map<string, number>();
  private readonly creatorShares = new Map<string, number>();
  /** After `accumulate`: each found key's row in `values` (SIGNALS per row). */
  private accumulated: {
    rows: KeyRows;
    values: Float64Array;
    lastKey: number;
    lastRow: number;
    /** The last `accumulatedRows` answer, for the next signal's column. */
    rowsOf: { keys: Int32Array; rows: Int32Array } | null;
  } | null = null;

  /** `items` most recent first. */
  constructor(
    readonly index: ItemNeighbours | null,
    readonly items: readonly HistoryItem[],
  ) {
    this.factors = new Float64Array(items.length * SIGNALS);
    let total = 0;
    items.forEach((item, k) => {
      const n = index && item.key >= 0 && item.key < index.keys ? index.engagements[item.key] : 0;
      const f = this.factors.subarray(k * SIGNALS, (k + 1) * SIGNALS);
      if (n > 0) {
        const recency = HISTORY_DECAY ** k * item.strength;
        f[SIMILARITY] = recency / Math.sqrt(n);
        f[SIMILARITY_RECENT] = k < HISTORY_RECENT_ITEMS ? item.strength / Math.sqrt(n) : 0;
        f[COOCCURRENCE] = recency / n;
        f[NEXT] = (HISTORY_NEXT_DECAY ** k * item.strength) / n;
      }
      const w = HISTORY_DECAY ** k * item.strength;
      total += Math.abs(w);
      this.categoryShares.set(item.category, (this.categoryShares.get(item.category) ?? 0) + w);
      this.creatorShares.set(item.creatorId, (this.creatorShares.get(item.creatorId) ?? 0) + w);
    });
    if (total > 0) {
      for (const [k, v] of this.categoryShares) this.categoryShares.set(k, v / total);
      for (const [k, v] of this.creatorShares) this.creatorShares.set(k, v / total);
    }
  }

  get empty(): boolean {
    return this.items.length === 0;
  }

  /** Weighted share of the recent videos in this category (negative when they were skipped). */
  categoryShare(category: string): number {
    return this.categoryShares.get(category) ?? 0;
  }

  creatorShare(creatorId: string): number {
    return this.creatorShares.get(creatorId) ?? 0;
  }

  /** One signal for one candidate key. */
  value(key: number, signal: number): number {
    const accumulated = this.accumulated;
    if (accumulated) {
      // The feature matrix asks for every signal of one candidate in a row: one lookup for them.
      if (key !== accumulated.lastKey) {
        accumulated.lastKey = key;
        accumulated.lastRow = accumulated.rows.find(key);
      }
      const row = accumulated.lastRow;
      return row < 0 ? 0 : accumulated.values[row * SIGNALS + signal];
    }
    const index = this.index;
    if (!index || key < 0 || key >= index.keys) return 0;
    let sum = 0;
    const nKey = index.engagements[key];
    for (let k = 0; k < this.items.length; k++) {
      const at = index.find(this.items[k].key, key);
      if (at < 0) continue;
      sum += this.term(k, signal, index, at, nKey);
    }
    return sum;
  }

  /** Unions the recent videos' neighbour lists once; afterwards `value` reads from it. */
  /**
   * After `accumulate`: each key's row in the accumulated values (-1 where no history
   * item has it as a neighbour), looked up once for the same `keys` array however many
   * signals read them (the feature matrix fills a column per signal).
   */
  accumulatedRows(keys: Int32Array): Int32Array {
    const accumulated = this.accumulated;
    if (!accumulated) throw new Error('accumulatedRows before accumulate');
    if (accumulated.rowsOf?.keys === keys) return accumulated.rowsOf.rows;
    const rows = new Int32Array(keys.length);
    for (let i = 0; i < keys.length; i++) rows[i] = accumulated.rows.find(keys[i]);
    accumulated.rowsOf = { keys, rows };
    return rows;
  }

  /** A signal at a row from `accumulatedRows` (0 at -1): what `value` answers for that row's key. */
  accumulatedValue(row: number, signal: number): number {
    return row < 0 ? 0 : this.accumulated!.values[row * SIGNALS + signal];
  }

  accumulate(): void {
    if (this.accumulated) return;
    const index = this.index;
    let size = 0;
    if (index) for (const item of this.items) if (item.key >= 0 && item.key < index.keys) size += index.offsets[item.key + 1] - index.offsets[item.key];
    const rows = new KeyRows(size);
    const values = new Float64Array(size * SIGNALS);
    if (index) {
      const { ids, co, next } = index;
      const engagements = index.neighbourEngagements;
      const factors = this.factors;
      for (let k = 0; k < this.items.length; k++) {
        const r = this.items[k].key;
        if (r < 0 || r >= index.keys) continue;
        // The terms of `term`, unrolled: a zero factor or an unknown count adds nothing, as there.
        const fSimilarity = factors[k * SIGNALS + SIMILARITY];
        const fRecent = factors[k * SIGNALS + SIMILARITY_RECENT];
        const fCooccurrence = factors[k * SIGNALS + COOCCURRENCE];
        const fNext = factors[k * SIGNALS + NEXT];
        for (let at = index.offsets[r], end = index.offsets[r + 1]; at < end; at++) {
          const base = rows.rowOf(ids[at]) * SIGNALS;
          const nKey = engagements[at];
          if (nKey > 0) {
            if (fSimilarity !== 0) values[base + SIMILARITY] += (fSimilarity * co[at]) / Math.sqrt(nKey);
            if (fRecent !== 0) values[base + SIMILARITY_RECENT] += (fRecent * co[at]) / Math.sqrt(nKey);
          }
          if (fCooccurrence !== 0) values[base + COOCCURRENCE] += fCooccurrence * co[at];
          if (fNext !== 0) values[base + NEXT] += fNext * next[at];
        }
      }
    }
    this.accumulated = { rows, values, lastKey: -1, lastRow: -1, rowsOf: null };
  }

  /** The accumulated keys, best first by the recency-weighted similarity plus the transition score, positives only. */
  best(limit: number): number[] {
    this.accumulate();
    const { rows, values } = this.accumulated!;
    const keys = rows.keys;
    const positive = new Int32Array(rows.size);
    const scores = new Float64Array(rows.size);
    let n = 0;
    for (let row = 0; row < rows.size; row++) {
      const score = values[row * SIGNALS + SIMILARITY] + values[row * SIGNALS + NEXT];
      if (score > 0) {
        positive[n] = keys[row];
        scores[n++] = score;
      }
    }
    return topKIndices(scores.subarray(0, n), limit).map((i) => positive[i]);
  }

  private term(k: number, signal: number, index: ItemNeighbours, at: number, nKey: number): number {
    const f = this.factors[k * SIGNALS + signal];
    if (f === 0) return 0;
    switch (signal) {
      case SIMILARITY:
      case SIMILARITY_RECENT:
        return nKey > 0 ? (f * index.co[at]) / Math.sqrt(nKey) : 0;
      case COOCCURRENCE:
        return f * index.co[at];
      default:
        return f * index.next[at];
    }
  }
}

/** The user's most recent videos (at most HISTORY_ITEMS), most recent first, with their keys; unknown videos are skipped. */
export function historyItems(
  recent: readonly (readonly [string, number, number])[],
  lookup: (videoId: string) => { key: number; category: string; creatorId: string } | null,
): HistoryItem[] {
  const items: HistoryItem[] = [];
  for (let i = recent.length - 1; i >= 0 && items.length < HISTORY_ITEMS; i--) {
    const found = lookup(recent[i][0]);
    if (found) items.push({ key: found.key, strength: engagementStrength(recent[i][1]), category: found.category, creatorId: found.creatorId });
  }
  return items;
}
