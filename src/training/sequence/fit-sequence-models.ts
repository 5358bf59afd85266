import { EVENT_TYPES, EVENT_WEIGHTS } from '../../events/event-types';
import { engagementType, SEQUENCE_TYPES, SequenceScores, sequenceInput } from '../../features/sequence-scores';
import { UserState } from '../../features/user-state';
import { TrainingLog, UNKNOWN_VIDEO } from '../data/training-log';
import { EventLoopYielder } from '../../common/event-loop-yielder';
import { SequenceEncoder, SequenceModel } from './sequence-model';
import { SEQUENCE_DEFAULTS, trainSequenceModel } from './train-sequence-model';

/** Per user (interned index), the engaged videos in time order as model items (catalog index + 1), with their types. */
export interface EngagementSequences {
  users: number[];
  items: Int32Array[];
  types: Int32Array[];
  positions: number;
}

/**
 * Every user's engagement sequence from the log, events before `until`: each event's
 * taste weight (a view's scaled by how much was watched, as the online state does) is
 * added to the video it names; consecutive events on one video are one step, and steps
 * whose weight ends up positive are kept, typed as `engagementType` types them.
 */
export function engagementSequences(log: TrainingLog, until: number, includeUser: (u: number) => boolean = () => true): EngagementSequences {
  const { events, catalog } = log;
  const steps = new Map<number, { items: number[]; weights: number[] }>();
  for (let i = 0; i < events.length && events.at[i] < until; i++) {
    const v = events.video[i];
    const u = events.user[i];
    if (v === UNKNOWN_VIDEO || !includeUser(u)) continue;
    const type = EVENT_TYPES[events.type[i]];
    let weight = EVENT_WEIGHTS[type];
    if (weight === 0) continue;
    const watch = events.watchMs[i];
    if (type === 'view' && watch >= 0) weight *= Math.min(1, watch / Math.max(1, catalog.videos[v].durationMs));
    let s = steps.get(u);
    if (!s) steps.set(u, (s = { items: [], weights: [] }));
    const last = s.items.length - 1;
    if (last >= 0 && s.items[last] === v + 1) s.weights[last] += weight;
    else {
      s.items.push(v + 1);
      s.weights.push(weight);
    }
  }
  const out: EngagementSequences = { users: [], items: [], types: [], positions: 0 };
  for (const [u, s] of steps) {
    const items: number[] = [];
    const types: number[] = [];
    s.items.forEach((item, k) => {
      if (!(s.weights[k] > 0)) return;
      items.push(item);
      types.push(engagementType(s.weights[k]));
    });
    if (items.length < 2) continue;
    out.users.push(u);
    out.items.push(Int32Array.from(items));
    out.types.push(Int32Array.from(types));
    out.positions += items.length - 1;
  }
  return out;
}

/** Over the budget, each user's sequence is first cut to its most recent this many windows of maxLength. */
const WINDOWS_PER_USER = 4;

/**
 * At most `budget` positions: the sequences as they are when they fit; else every
 * sequence cut to its last WINDOWS_PER_USER windows, then, if still over, a deterministic
 * sample of users (every k-th), so a fit's cost is bounded whatever the log's size.
 */
export function boundedSequences(seqs: EngagementSequences, maxLength: number, budget: number): EngagementSequences {
  if (seqs.positions <= budget) return seqs;
  const keep = WINDOWS_PER_USER * maxLength + 1;
  const cut = (a: Int32Array) => (a.length > keep ? a.subarray(a.length - keep) : a);
  const items = seqs.items.map(cut);
  const types = seqs.types.map(cut);
  const positions = items.reduce((sum, seq) => sum + seq.length - 1, 0);
  const stride = Math.max(1, Math.ceil(positions / budget));
  const out: EngagementSequences = { users: [], items: [], types: [], positions: 0 };
  for (let i = 0; i < items.length; i += stride) {
    out.users.push(seqs.users[i]);
    out.items.push(items[i]);
    out.types.push(types[i]);
    out.positions += items[i].length - 1;
  }
  return out;
}

/** Below this many training positions (next-engagement targets) there is too little order to learn: no model. */
export const MIN_SEQUENCE_POSITIONS = 1000;
const MAX_EPOCHS = 20;

/** Passes over `positions` that make about `budget` positions in all, within 1..MAX_EPOCHS. */
export function sequenceEpochs(positions: number, budget: number): number {
  return Math.min(MAX_EPOCHS, Math.max(1, Math.round(budget / Math.max(1, positions))));
}

export interface SequenceModels {
  /**
   * Models as serving would have had them over the window, oldest first: each trained on
   * the events before its `at` only, so a row scored with it never sees its own outcome
   * or anything later (the last one starts at the held-out part). Rows before the first
   * have no model, as before a first training.
   */
  refreshes: { at: number; model: SequenceModel }[];
  /** Trained on the whole window: what serving loads. */
  serving: SequenceModel;
  /** The serving fit's positions (after the bound) and epochs. */
  positions: number;
  epochs: number;
}

async function fit(log: TrainingLog, seqs: EngagementSequences, epochs: number, yielder: EventLoopYielder): Promise<SequenceModel> {
  const model = await trainSequenceModel(
    { sequences: seqs.items, types: seqs.types, numItems: log.catalog.videos.length, numTypes: SEQUENCE_TYPES },
    { epochs, yielder },
  );
  // Items no sequence held keep their random start: zero them, so they score 0 (no opinion) rather than noise.
  const seen = new Uint8Array(model.numItems + 1);
  for (const seq of seqs.items) for (const item of seq) seen[item] = 1;
  for (let j = 1; j <= model.numItems; j++) if (!seen[j]) model.itemEmbeddings.fill(0, j * model.dim, (j + 1) * model.dim);
  return model;
}

/** When half of the events before `heldOutFrom` have happened: the first refresh, so about half the training rows get scores. */
function midpoint(log: TrainingLog, heldOutFrom: number): number {
  const at = log.events.at;
  let before = 0;
  while (before < log.events.length && at[before] < heldOutFrom) before++;
  return before > 0 ? at[Math.floor(before / 2)] : heldOutFrom;
}

/**
 * The sequence models of one training run, or null when the log holds too little order to
 * learn from (or `budget` is 0): a refresh at the middle of the training part and one at
 * the start of the held-out part (for the rows), and one on the whole window (for
 * serving). Each fit trains on about `budget` positions in all (TRAIN_SEQUENCE_POSITIONS).
 */
export async function fitSequenceModels(log: TrainingLog, heldOutFrom: number, budget: number, yielder: EventLoopYielder): Promise<SequenceModels | null> {
  if (budget <= 0) return null;
  const bound = (seqs: EngagementSequences) => boundedSequences(seqs, SEQUENCE_DEFAULTS.maxLength, budget);
  const all = bound(engagementSequences(log, Infinity));
  if (all.positions < MIN_SEQUENCE_POSITIONS) return null;
  // The serving fit's epochs for every fit: the refreshes, on part of the log, cost less.
  const epochs = sequenceEpochs(all.positions, budget);
  const refreshes: SequenceModels['refreshes'] = [];
  for (const at of [midpoint(log, heldOutFrom), heldOutFrom]) {
    const before = bound(engagementSequences(log, at));
    if (before.positions < MIN_SEQUENCE_POSITIONS / 4 || refreshes.some((r) => r.at === at)) continue;
    refreshes.push({ at, model: await fit(log, before, epochs, yielder) });
  }
  const serving = await fit(log, all, epochs, yielder);
  return { refreshes, serving, positions: all.positions, epochs };
}

/**
 * The dataset's sequence scores for a user as of a moment: the newest refresh at or
 * before it encodes their online state's recent list, as serving encodes it; keys are
 * catalog indexes (the model's item j is catalog index j - 1).
 */
export function pointInTimeScores(models: SequenceModels, log: TrainingLog): (state: UserState, at: number) => SequenceScores | null {
  const refreshes = models.refreshes.map(({ at, model }) => ({ at, model, encoder: new SequenceEncoder(model), table: model.itemEmbeddings.subarray(model.dim) }));
  const itemOf = (id: string) => {
    const i = log.catalog.index.get(id);
    return i === undefined ? 0 : i + 1;
  };
  return (state, at) => {
    if (state.recent.length === 0) return null;
    let k = refreshes.length - 1;
    while (k >= 0 && refreshes[k].at > at) k--;
    if (k < 0) return null;
    const { model, encoder, table } = refreshes[k];
    return new SequenceScores(
      () => {
        const input = sequenceInput(state.recent, itemOf, model.maxLength);
        return input.items.length > 0 ? encoder.encode(input.items, input.types) : null;
      },
      table,
      model.dim,
    );
  };
}
