import { COUNTS_WATCH_TIME, EMBEDDING_STEP, EVENT_TYPES, EVENT_WEIGHTS, EventType } from '../events/event-types';
import { CatalogVideo } from './catalog-video';
import { binaryUserStateVersion, isBinaryUserState, readUserStateBinary, writeUserStateBinary } from './user-state-binary';

/** One event as the feature pipeline sees it. */
export interface FeatureEvent {
  eventId: string;
  userId: string;
  videoId: string;
  type: EventType;
  watchMs: number | null;
  /** Epoch milliseconds. */
  occurredAt: number;
}

export type EventCounts = Record<EventType, number>;

/**
 * Everything the system knows online about one user. Pure data: the same
 * `applyUserEvent` builds it in the worker (live), in the replay command and in
 * training (point-in-time features), so the three can never disagree.
 */
export interface UserState {
  /** Events applied so far: incremented once per applied event, so each event's value is its position (seq) in the user's applied order. */
  version: number;
  /** Epoch ms of the latest applied event (0 for a new user). */
  lastEventAt: number;
  counts: EventCounts;
  /** Exponentially decayed counts per type, time constants 1 hour and 24 hours, as of `lastEventAt`. */
  recent1h: EventCounts;
  recent24h: EventCounts;
  /** Sum of watchMs and of the watched videos' durations, for watch-time ratios. */
  watchMs: number;
  watchedDurationMs: number;
  /**
   * Decayed (24h) affinity per category and per creator; positive means liked. Maps, not
   * objects: their keys differ from user to user, and an object parsed with a new set of
   * keys makes V8 build new hidden classes (see encodeUserState).
   */
  categoryAffinity: Map<string, number>;
  creatorAffinity: Map<string, number>;
  follows: string[];
  /** Unit-length taste vector (all zeros until the first positive signal). */
  embedding: number[];
  /** The last RECENT_MAX videos the user reacted to, oldest first (what item-to-item retrieval and the history features read). */
  recent: RecentEngagement[];
}

/** [video id, summed EVENT_WEIGHTS of the user's events on it, epoch ms of the latest]; a negative weight means skipped or unliked. */
export type RecentEngagement = [videoId: string, weight: number, at: number];
export const RECENT_MAX = 50;

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
export const MAX_CREATOR_AFFINITIES = 64;
export const MAX_FOLLOWS = 1000;

/** Built property by property: Object.fromEntries would give a slow dictionary-mode object. */
function zeroCounts(): EventCounts {
  const counts = {} as EventCounts;
  for (const t of EVENT_TYPES) counts[t] = 0;
  return counts;
}

export function emptyUserState(dim: number): UserState {
  return {
    version: 0,
    lastEventAt: 0,
    counts: zeroCounts(),
    recent1h: zeroCounts(),
    recent24h: zeroCounts(),
    watchMs: 0,
    watchedDurationMs: 0,
    categoryAffinity: new Map(),
    creatorAffinity: new Map(),
    follows: [],
    embedding: new Array(dim).fill(0),
    recent: [],
  };
}

function decayCounts(counts: EventCounts, factor: number): void {
  for (const t of EVENT_TYPES) counts[t] *= factor;
}

function decayMap(map: Map<string, number>, factor: number): void {
  for (const [k, value] of map) {
    const v = value * factor;
    if (Math.abs(v) < 1e-3) map.delete(k);
    else map.set(k, v);
  }
}

/** Keeps the creators with the strongest affinity so the state stays bounded. */
function capMap(map: Map<string, number>, max: number): void {
  if (map.size <= max) return;
  const keys = [...map.keys()].sort((a, b) => Math.abs(map.get(b)!) - Math.abs(map.get(a)!));
  for (const k of keys.slice(max)) map.delete(k);
}

function moveEmbedding(user: number[], video: ArrayLike<number>, step: number): void {
  let norm = 0;
  for (let i = 0; i < user.length; i++) {
    user[i] = step > 0 ? user[i] + step * (video[i] - user[i]) : user[i] + step * video[i];
    norm += user[i] * user[i];
  }
  norm = Math.sqrt(norm);
  if (norm < 1e-9) return;
  for (let i = 0; i < user.length; i++) user[i] /= norm;
}

/**
 * Applies one event to a user's state, in place. Events are expected in time order
 * per user; a late event is applied without rewinding the decay clock.
 * `video` is null when the video is unknown to the catalog (counts still move).
 */
export function applyUserEvent(state: UserState, event: FeatureEvent, video: CatalogVideo | null): UserState {
  const t = Math.max(event.occurredAt, state.lastEventAt);
  const elapsed = state.lastEventAt === 0 ? 0 : t - state.lastEventAt;
  if (elapsed > 0) {
    decayCounts(state.recent1h, Math.exp(-elapsed / HOUR));
    const dayFactor = Math.exp(-elapsed / DAY);
    decayCounts(state.recent24h, dayFactor);
    decayMap(state.categoryAffinity, dayFactor);
    decayMap(state.creatorAffinity, dayFactor);
  }
  state.lastEventAt = t;
  state.counts[event.type] += 1;
  state.recent1h[event.type] += 1;
  state.recent24h[event.type] += 1;

  if (COUNTS_WATCH_TIME[event.type] && event.watchMs != null && video) {
    state.watchMs += Math.min(event.watchMs, video.durationMs * 3);
    state.watchedDurationMs += video.durationMs;
  }
  if (!video) return state;

  let weight = EVENT_WEIGHTS[event.type];
  if (event.type === 'view' && event.watchMs != null) weight *= Math.min(1, event.watchMs / Math.max(1, video.durationMs));
  if (weight !== 0) {
    state.categoryAffinity.set(video.category, (state.categoryAffinity.get(video.category) ?? 0) + weight);
    state.creatorAffinity.set(video.creatorId, (state.creatorAffinity.get(video.creatorId) ?? 0) + weight);
    capMap(state.creatorAffinity, MAX_CREATOR_AFFINITIES);
  }
  if (event.type === 'follow' && !state.follows.includes(video.creatorId)) {
    state.follows.push(video.creatorId);
    if (state.follows.length > MAX_FOLLOWS) state.follows.shift();
  } else if (event.type === 'unfollow') {
    state.follows = state.follows.filter((c) => c !== video.creatorId);
  }

  if (weight !== 0) recordRecent(state.recent, video.id, weight, t);

  const step = EMBEDDING_STEP[event.type];
  if (step !== 0 && video.embedding && video.embedding.length === state.embedding.length) {
    moveEmbedding(state.embedding, video.embedding, step);
  }
  return state;
}

/** Moves the video to the end of the user's recent list, adding this event's weight to what it had. */
function recordRecent(recent: RecentEngagement[], videoId: string, weight: number, at: number): void {
  let previous = 0;
  for (let i = recent.length - 1; i >= 0; i--) {
    if (recent[i][0] !== videoId) continue;
    previous = recent[i][1];
    if (i === recent.length - 1) {
      recent[i][1] = previous + weight;
      recent[i][2] = at;
      return;
    }
    recent.splice(i, 1);
    break;
  }
  recent.push([videoId, previous + weight, at]);
  if (recent.length > RECENT_MAX) recent.shift();
}

/** Decay-adjusted view of a counter at time `now` without mutating the state. */
export function decayedAt(value: number, lastEventAt: number, now: number, timeConstantMs: number): number {
  if (lastEventAt === 0 || now <= lastEventAt) return value;
  return value * Math.exp(-(now - lastEventAt) / timeConstantMs);
}

export const USER_TIME_CONSTANTS = { HOUR, DAY };

/** The stored form of an affinity map: keys and values alternating, `[key, value, key, value, ...]`. */
type StoredAffinities = (string | number)[];

/** The user state as stored in Redis before the binary form (JSON): the affinity maps as flat key-value arrays. */
type StoredUserState = Omit<UserState, 'categoryAffinity' | 'creatorAffinity'> & {
  categoryAffinity: StoredAffinities | Record<string, number>;
  creatorAffinity: StoredAffinities | Record<string, number>;
};

/** Reads either stored form: the flat array, or the object that states written before it hold. */
function loadAffinities(stored: StoredAffinities | Record<string, number> | undefined): Map<string, number> {
  const map = new Map<string, number>();
  if (Array.isArray(stored)) {
    for (let i = 0; i + 1 < stored.length; i += 2) {
      const [key, value] = [stored[i], stored[i + 1]];
      if (typeof key === 'string' && typeof value === 'number' && Number.isFinite(value)) map.set(key, value);
    }
  } else if (stored) {
    for (const k of Object.keys(stored)) if (Number.isFinite(stored[k])) map.set(k, stored[k]);
  }
  return map;
}

/** The stored form: binary (see user-state-binary.ts). */
export function encodeUserState(state: UserState): Buffer {
  return writeUserStateBinary(state);
}

/**
 * Reads the binary form, or the JSON that states stored before it hold (as a string or
 * its bytes): JSON with the affinity maps as flat `[key, value, ...]` arrays, or, older
 * still, as objects. Throws on anything else.
 */
export function decodeUserState(raw: Buffer | string | null | undefined, dim: number): UserState {
  if (!raw || raw.length === 0) return emptyUserState(dim);
  if (typeof raw !== 'string') {
    if (isBinaryUserState(raw)) return readUserStateBinary(raw, dim);
    raw = raw.toString('utf8');
  }
  const stored = JSON.parse(raw) as StoredUserState;
  const parsed = stored as unknown as UserState;
  parsed.categoryAffinity = loadAffinities(stored.categoryAffinity);
  parsed.creatorAffinity = loadAffinities(stored.creatorAffinity);
  if (!Array.isArray(parsed.embedding) || parsed.embedding.length !== dim) parsed.embedding = new Array(dim).fill(0);
  // States stored before a field or an event type existed decode with its empty value.
  parsed.recent ??= [];
  for (const counts of [parsed.counts, parsed.recent1h, parsed.recent24h]) for (const t of EVENT_TYPES) counts[t] ??= 0;
  return parsed;
}

/** The applied-event count of a stored state (0 for none), without decoding the rest of a binary one. */
export function storedUserStateVersion(raw: Buffer | null): number {
  if (!raw || raw.length === 0) return 0;
  if (isBinaryUserState(raw)) return binaryUserStateVersion(raw);
  return Number((JSON.parse(raw.toString('utf8')) as { version?: number }).version ?? 0);
}
