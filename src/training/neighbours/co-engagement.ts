import { EVENT_TYPES, EVENT_WEIGHTS } from '../../events/event-types';
import { ItemNeighbours } from '../../features/item-neighbours';
import { EventLog, UNKNOWN_VIDEO } from '../data/training-log';
import { EventLoopYielder } from '../../common/event-loop-yielder';

export interface NeighbourOptions {
  /** Two videos at most this many steps apart in one user's history co-occur. */
  window: number;
  /** A video engaged with at most this many steps after another is a "watched next" of it. */
  nextSteps: number;
  /** Neighbours kept per video. */
  maxNeighbours: number;
  /** At most this many pair records held at once (memory bound: 16 bytes each); more are processed in passes. */
  maxRecords: number;
  yielder?: EventLoopYielder;
}

export const DEFAULT_NEIGHBOUR_OPTIONS: NeighbourOptions = { window: 10, nextSteps: 5, maxNeighbours: 100, maxRecords: 8_000_000 };

const POSITIVE = Uint8Array.from(EVENT_TYPES, (t) => (EVENT_WEIGHTS[t] > 0 ? 1 : 0));

/** Co-occurrence weight of two videos `d` steps apart: nearer counts more. */
const coWeight = (d: number) => 1 / (1 + 0.1 * d);

/**
 * Item-to-item neighbours from the events in [from, to): each user's positively engaged
 * videos in time order (repeats in a row collapsed); pairs within `window` steps add a
 * symmetric co-engagement weight, pairs within `nextSteps` a directional "next" weight.
 * Each video keeps its `maxNeighbours` best by (co + next) / sqrt(n_a * n_b), n being
 * the users who engaged with each (popularity damping). Memory stays bounded: pair
 * records are generated per range of videos, at most `maxRecords` at a time.
 */
export async function computeItemNeighbours(
  events: EventLog,
  users: number,
  videos: number,
  from: number,
  to: number,
  options: NeighbourOptions = DEFAULT_NEIGHBOUR_OPTIONS,
): Promise<ItemNeighbours> {
  const yielder = options.yielder ?? new EventLoopYielder();
  const sequences = await userSequences(events, users, from, to, yielder);
  const engagements = new Float32Array(videos);
  const seenBy = new Int32Array(videos).fill(-1);
  sequences.forEach((s, u) => {
    for (const v of s) {
      if (seenBy[v] !== u) {
        seenBy[v] = u;
        engagements[v]++;
      }
    }
  });

  // Pass 0: records per video, to cut the videos into ranges of at most maxRecords.
  const counts = new Int32Array(videos);
  forEachPair(sequences, options, (a, b) => {
    counts[a]++;
    counts[b]++;
  });
  const rows = new Map<number, { ids: Int32Array; co: Float32Array; next: Float32Array }>();
  let lo = 0;
  while (lo < videos) {
    let hi = lo;
    let size = 0;
    while (hi < videos && (hi === lo || size + counts[hi] <= options.maxRecords)) size += counts[hi++];
    await collectRange(sequences, options, lo, hi, counts, size, engagements, rows, yielder);
    lo = hi;
  }
  return ItemNeighbours.fromRows(videos, rows, engagements);
}

async function userSequences(events: EventLog, users: number, from: number, to: number, yielder: EventLoopYielder): Promise<Int32Array[]> {
  const lists: number[][] = Array.from({ length: users }, () => []);
  for (let i = 0; i < events.length; i++) {
    const at = events.at[i];
    if (at < from || at >= to) continue;
    const v = events.video[i];
    if (v === UNKNOWN_VIDEO || !POSITIVE[events.type[i]]) continue;
    const list = lists[events.user[i]];
    if (list.length === 0 || list[list.length - 1] !== v) list.push(v);
    if ((i & 0xffff) === 0 && yielder.due()) await yielder.pause();
  }
  return lists.map((l) => Int32Array.from(l));
}

function forEachPair(sequences: Int32Array[], o: NeighbourOptions, visit: (a: number, b: number, d: number) => void): void {
  for (const s of sequences) {
    for (let i = 0; i < s.length; i++) {
      const end = Math.min(s.length, i + o.window + 1);
      for (let j = i + 1; j < end; j++) if (s[i] !== s[j]) visit(s[i], s[j], j - i);
    }
  }
}

/** Generates the pair records whose first video is in [lo, hi), then reduces each video's row to its best neighbours. */
async function collectRange(
  sequences: Int32Array[],
  o: NeighbourOptions,
  lo: number,
  hi: number,
  counts: Int32Array,
  size: number,
  engagements: Float32Array,
  rows: Map<number, { ids: Int32Array; co: Float32Array; next: Float32Array }>,
  yielder: EventLoopYielder,
): Promise<void> {
  const start = new Int32Array(hi - lo + 1);
  for (let v = lo; v < hi; v++) start[v - lo + 1] = start[v - lo] + counts[v];
  const fill = start.slice(0, hi - lo);
  const other = new Int32Array(size);
  const co = new Float32Array(size);
  const next = new Float32Array(size);
  const put = (a: number, b: number, c: number, n: number) => {
    if (a < lo || a >= hi) return;
    const at = fill[a - lo]++;
    other[at] = b;
    co[at] = c;
    next[at] = n;
  };
  forEachPair(sequences, o, (a, b, d) => {
    const c = coWeight(d);
    put(a, b, c, d <= o.nextSteps ? 1 / d : 0);
    put(b, a, c, 0);
  });

  const sum = new Map<number, number>();
  for (let a = lo; a < hi; a++) {
    const from = start[a - lo];
    const to = start[a - lo + 1];
    if (to === from) continue;
    sum.clear();
    const ids: number[] = [];
    const coSum: number[] = [];
    const nextSum: number[] = [];
    for (let r = from; r < to; r++) {
      let k = sum.get(other[r]);
      if (k === undefined) {
        sum.set(other[r], (k = ids.length));
        ids.push(other[r]);
        coSum.push(0);
        nextSum.push(0);
      }
      coSum[k] += co[r];
      nextSum[k] += next[r];
    }
    const na = engagements[a];
    const score = ids.map((b, k) => (coSum[k] + nextSum[k]) / Math.sqrt(na * engagements[b]));
    const keep = ids
      .map((_, k) => k)
      .sort((x, y) => score[y] - score[x] || ids[x] - ids[y])
      .slice(0, o.maxNeighbours);
    rows.set(a, {
      ids: Int32Array.from(keep, (k) => ids[k]),
      co: Float32Array.from(keep, (k) => coSum[k]),
      next: Float32Array.from(keep, (k) => nextSum[k]),
    });
    if (yielder.due()) await yielder.pause();
  }
}
