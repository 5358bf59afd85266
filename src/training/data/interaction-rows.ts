import { EVENT_TYPES, EVENT_WEIGHTS } from '../../events/event-types';
import { engagementStrength, ItemNeighbours, UserHistory } from '../../features/item-neighbours';
import { createRng } from '../model/mlp';
import { ImpressionLog, NO_REQUEST, TrainingLog, UNKNOWN_VIDEO } from './training-log';

/** What a training row stands for: a logged impression, a video the user engaged with unprompted, or a sampled negative. */
export const ROW_KIND = { impression: 0, engaged: 1, sampled: 2 } as const;

export interface InteractionRowOptions {
  /** Sampled negatives per engaged row, drawn from the candidates retrieval offered the user at that moment. */
  negatives: number;
  /** At most this many engaged rows (a uniform sample of them beyond it), which bounds training time. */
  maxEngaged: number;
  seed: number;
  /** Item neighbours in effect from `at` on (oldest first), where neighbour negatives are drawn from. */
  neighbours: readonly { at: number; index: ItemNeighbours }[];
}

export const DEFAULT_INTERACTION_ROWS = { negatives: 4, maxEngaged: 60_000 };

const RECENT = 20;
/**
 * The candidates a row is drawn among: the user's best item-to-item videos and the most
 * popular videos so far, about as many of each as the feed's sources ask for.
 */
const I2I_TOP = 150;
const TOP = 150;
const TOP_EVERY = 2_000;
/** Event types that make a row on their own: the user reacted to a video nobody logged serving. */
const ROW_TYPES = Uint8Array.from(EVENT_TYPES, (t) => (EVENT_WEIGHTS[t] > 0 || t === 'skip' ? 1 : 0));
const POSITIVE = Uint8Array.from(EVENT_TYPES, (t) => (EVENT_WEIGHTS[t] > 0 ? 1 : 0));

/** Events that would make an engaged row: the first reaction of a user to a video, with no request id (not answering a logged impression). */
function* rowEvents(log: TrainingLog): Generator<number> {
  const { events } = log;
  const reacted = new Map<number, Set<number>>();
  for (let i = 0; i < events.length; i++) {
    const v = events.video[i];
    if (v === UNKNOWN_VIDEO || events.request[i] !== NO_REQUEST || !ROW_TYPES[events.type[i]]) continue;
    const u = events.user[i];
    let set = reacted.get(u);
    if (!set) reacted.set(u, (set = new Set()));
    if (set.has(v)) continue;
    set.add(v);
    yield i;
  }
}

/** Times of the rows training will have (impressions and engaged rows), for choosing the held-out cut before neighbours exist. */
export function rowTimes(log: TrainingLog): Float64Array {
  const times: number[] = Array.from(log.impressions.at.subarray(0, log.impressions.length));
  for (const i of rowEvents(log)) times.push(log.events.at[i]);
  return Float64Array.from(times).sort();
}

/**
 * The training rows when impressions are few or absent: every logged impression, plus a
 * row for each video a user reacted to without a logged impression (labelled by the
 * events like an impression would be), each with sampled videos the user had not engaged
 * with by then as negatives: popular ones (drawn from the engagements so far) and
 * neighbours of the user's recent videos (what item-to-item retrieval would offer, so the
 * ranker learns to order those). All rows share their event's time, so point-in-time
 * features see only what came before.
 */
export function withInteractionRows(log: TrainingLog, o: InteractionRowOptions): { impressions: ImpressionLog; kinds: Uint8Array; engaged: number; sampled: number } {
  const { events, impressions: real, catalog } = log;
  const rng = createRng(o.seed);
  const candidates = [...rowEvents(log)];
  const keep = Math.min(1, o.maxEngaged / Math.max(1, candidates.length));
  const rowAt = new Set<number>();
  for (const i of candidates) if (keep >= 1 || rng() < keep) rowAt.add(i);

  const out = new ImpressionLog();
  const kinds: number[] = [];
  const engagedBy = new Map<number, Set<number>>();
  const recent = new Map<number, number[]>();
  const popular: number[] = [];
  const counts = new Float64Array(catalog.videos.length);
  let top: number[] = [];
  let topAt = -1;
  const topNow = () => {
    // Recounted as engagements double while few, then every TOP_EVERY.
    if (topAt < 0 || popular.length - topAt >= Math.min(TOP_EVERY, Math.max(1, topAt))) {
      top = topIndices(counts, TOP);
      topAt = popular.length;
    }
    return top;
  };
  let r = 0;
  let refresh = -1;
  let engaged = 0;
  let sampled = 0;
  const pushReal = (until: number) => {
    while (r < real.length && real.at[r] <= until) {
      out.push(real.at[r], real.user[r], real.video[r], real.request[r], real.logged.get(r));
      kinds.push(ROW_KIND.impression);
      r++;
    }
  };
  const recordEngagement = (type: number, u: number, v: number) => {
    if (!POSITIVE[type]) return;
    let own = engagedBy.get(u);
    if (!own) engagedBy.set(u, (own = new Set()));
    if (own.has(v)) return;
    own.add(v);
    popular.push(v);
    counts[v]++;
    let list = recent.get(u);
    if (!list) recent.set(u, (list = []));
    list.push(v);
    if (list.length > RECENT) list.shift();
  };
  const usable = (v: number, at: number, own: Set<number>) => {
    const video = catalog.videos[v];
    return video.active && video.createdAt <= at && !own.has(v);
  };

  for (let i = 0; i < events.length; i++) {
    const v = events.video[i];
    if (v === UNKNOWN_VIDEO) continue;
    const u = events.user[i];
    const at = events.at[i];
    if (rowAt.has(i)) {
      pushReal(at);
      while (refresh + 1 < o.neighbours.length && o.neighbours[refresh + 1].at <= at) refresh++;
      let own = engagedBy.get(u);
      if (!own) engagedBy.set(u, (own = new Set()));
      const history = recent.get(u) ?? [];
      const index = refresh >= 0 ? o.neighbours[refresh].index : null;
      const i2i =
        index && history.length > 0
          ? new UserHistory(
              index,
              history.map((key) => ({ key, strength: engagementStrength(1), category: '', creatorId: '' })).reverse(),
            ).best(I2I_TOP)
          : [];
      // Like an impression, the row exists only when retrieval would have offered the video:
      // the ranker learns to order what the sources find, not to tell found from not found.
      if (!i2i.includes(v) && !topNow().includes(v)) {
        recordEngagement(events.type[i], u, v);
        continue;
      }
      out.push(at, u, v, NO_REQUEST);
      kinds.push(ROW_KIND.engaged);
      engaged++;
      const picked = new Set<number>([v]);
      // Negatives uniformly from the same candidates, so no retrieval channel tells a positive from a negative.
      const candidates = [...new Set([...i2i, ...topNow()])];
      for (let n = 0; n < o.negatives; n++) {
        let candidate = -1;
        for (let attempt = 0; attempt < 10 && candidate < 0; attempt++) {
          let c = -1;
          if (attempt < 5) c = candidates[Math.floor(rng() * candidates.length)];
          // A draw by popularity, then a uniform one, once the candidates keep hitting the user's own.
          if (c < 0 && popular.length > 0 && attempt < 8) c = popular[Math.floor(rng() * popular.length)];
          if (c < 0) c = Math.floor(rng() * catalog.videos.length);
          if (!picked.has(c) && usable(c, at, own)) candidate = c;
        }
        if (candidate < 0) continue;
        picked.add(candidate);
        out.push(at, u, candidate, NO_REQUEST);
        kinds.push(ROW_KIND.sampled);
        sampled++;
      }
    }
    recordEngagement(events.type[i], u, v);
  }
  pushReal(Infinity);
  return { impressions: out, kinds: Uint8Array.from(kinds), engaged, sampled };
}

function topIndices(counts: Float64Array, k: number): number[] {
  const idx: number[] = [];
  for (let i = 0; i < counts.length; i++) if (counts[i] > 0) idx.push(i);
  idx.sort((a, b) => counts[b] - counts[a] || a - b);
  return idx.slice(0, k);
}
