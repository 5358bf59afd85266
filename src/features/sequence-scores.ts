import { touchRows } from '../common/touch-rows';
import { EVENT_WEIGHTS } from '../events/event-types';
import { RecentEngagement } from './user-state';

/**
 * The sequence model's view of a user: their recent engaged videos, oldest first, each
 * with an engagement type. Training builds the same input from the replayed log
 * (`engagementType` of the weight the user gave each video), serving from the online
 * state's recent list, so the model sees the same kind of sequence in both.
 */

/** Type ids the sequence model knows: 0 a light engagement (a view), 1 a strong one (a like, share, complete, comment, follow). */
export const SEQUENCE_TYPES = 2;

/** The engagement type of a video the user gave this taste weight in all (only positive weights enter a sequence). */
export function engagementType(weight: number): number {
  return weight > EVENT_WEIGHTS.view ? 1 : 0;
}

/** A user's input to the sequence encoder: item ids (1-based model items) and types, oldest first. */
export interface SequenceInput {
  items: Int32Array;
  types: Int32Array;
}

/**
 * The input from a user's recent list (oldest first in the list): the videos with a
 * positive weight that the model knows (`itemOf` answers 0 for an unknown video), the
 * last `maxLength` of them.
 */
export function sequenceInput(recent: readonly RecentEngagement[], itemOf: (videoId: string) => number, maxLength: number): SequenceInput {
  const items: number[] = [];
  const types: number[] = [];
  for (let i = recent.length - 1; i >= 0 && items.length < maxLength; i--) {
    const [videoId, weight] = recent[i];
    if (!(weight > 0)) continue;
    const item = itemOf(videoId);
    if (item <= 0) continue;
    items.push(item);
    types.push(engagementType(weight));
  }
  return { items: Int32Array.from(items.reverse()), types: Int32Array.from(types.reverse()) };
}

/**
 * Scores candidates for one user with the sequence model: the dot product of the
 * user's encoded sequence and each candidate's learned vector. `table` holds one row of
 * `dim` floats per key (the catalog ordinal in serving, the catalog index in training);
 * a key without a row, or a video the model never learned (a zero row), scores 0, as
 * does every video for a user without a sequence. The user vector is encoded on first
 * use (`encode`), so a context nobody scores costs nothing.
 */
export class SequenceScores {
  private vector: Float32Array | null | undefined;

  constructor(
    private readonly encode: () => Float32Array | null,
    private readonly table: Float32Array,
    readonly dim: number,
  ) {}

  static of(vector: Float32Array | null, table: Float32Array, dim: number): SequenceScores {
    return new SequenceScores(() => vector, table, dim);
  }

  /** The user's vector, or null when the user has no sequence the model can read. */
  userVector(): Float32Array | null {
    if (this.vector === undefined) this.vector = this.encode();
    return this.vector;
  }

  score(key: number): number {
    const u = this.userVector();
    const d = this.dim;
    if (!u || key < 0 || (key + 1) * d > this.table.length) return 0;
    let s = 0;
    const at = key * d;
    for (let i = 0; i < d; i++) s += u[i] * this.table[at + i];
    return s;
  }

  /** `score(keys[i])` into `out[i * width + j]` for every key: the feature matrix's column. */
  scores(keys: Int32Array, out: Float32Array, width: number, j: number): void {
    const u = this.userVector();
    const d = this.dim;
    const table = this.table;
    if (u) touchRows(table, keys, d);
    for (let i = 0, o = j; i < keys.length; i++, o += width) {
      const key = keys[i];
      if (!u || key < 0 || (key + 1) * d > table.length) {
        out[o] = 0;
        continue;
      }
      let s = 0;
      for (let k = 0, at = key * d; k < d; k++, at++) s += u[k] * table[at];
      out[o] = s;
    }
  }
}
