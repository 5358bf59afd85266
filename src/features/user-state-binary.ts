import { EVENT_TYPES, EventType } from '../events/event-types';
import type { EventCounts, RecentEngagement, UserState } from './user-state';

/**
 * The user state's stored form: binary, little-endian. The feed decodes one per request
 * and the worker one per job, and JSON spent most of that parsing numbers (the embedding,
 * the affinities, the recent list) that are float64 here, read in place.
 *
 *   u8  0xB1 (a JSON state starts with '{'), u8 format 1
 *   u32 x 6: event types, dim, categories, creators, follows, recent
 *   f64: version, lastEventAt, watchMs, watchedDurationMs,
 *        counts, recent1h, recent24h (one per event type each),
 *        embedding, category values, creator values, recent weights, recent times
 *   strings, each u32 byte length + UTF-8: event type names, category names,
 *        creator ids, follows, recent video ids
 *
 * The event types' names are stored, so a state written before a type existed (or after
 * one was added) decodes by name; while they match the running code's, no string is made
 * of them.
 */
export const USER_STATE_MAGIC = 0xb1;
const FORMAT = 1;
const HEADER_BYTES = 2 + 6 * 4;

/** The current event types' names as stored: compared as bytes at decode time. */
const TYPE_NAMES = encodeStrings(EVENT_TYPES);

export class InvalidUserStateError extends Error {}

export function isBinaryUserState(raw: Buffer): boolean {
  return raw.length > 0 && raw[0] === USER_STATE_MAGIC;
}

export function writeUserStateBinary(state: UserState): Buffer {
  const types = EVENT_TYPES;
  const dim = state.embedding.length;
  const categories = [...state.categoryAffinity];
  const creators = [...state.creatorAffinity];
  const doubles = 4 + 3 * types.length + dim + categories.length + creators.length + 2 * state.recent.length;
  const names = [...categories.map(([k]) => k), ...creators.map(([k]) => k), ...state.follows, ...state.recent.map(([id]) => id)];
  let nameBytes = 0;
  for (const name of names) nameBytes += 4 + Buffer.byteLength(name, 'utf8');
  const out = Buffer.allocUnsafe(HEADER_BYTES + doubles * 8 + TYPE_NAMES.length + nameBytes);
  out[0] = USER_STATE_MAGIC;
  out[1] = FORMAT;
  let at = 2;
  for (const n of [types.length, dim, categories.length, creators.length, state.follows.length, state.recent.length]) at = out.writeUInt32LE(n, at);
  const put = (v: number): void => void (at = out.writeDoubleLE(v, at));
  put(state.version);
  put(state.lastEventAt);
  put(state.watchMs);
  put(state.watchedDurationMs);
  for (const counts of [state.counts, state.recent1h, state.recent24h]) for (const t of types) put(counts[t] ?? 0);
  for (let i = 0; i < dim; i++) put(state.embedding[i]);
  for (const [, v] of categories) put(v);
  for (const [, v] of creators) put(v);
  for (const [, w] of state.recent) put(w);
  for (const [, , t] of state.recent) put(t);
  at += TYPE_NAMES.copy(out, at);
  for (const name of names) {
    const length = out.write(name, at + 4, 'utf8');
    out.writeUInt32LE(length, at);
    at += 4 + length;
  }
  return out;
}

/** Throws InvalidUserStateError for anything that is not a whole state of this format. */
export function readUserStateBinary(raw: Buffer, dim: number): UserState {
  if (raw.length < HEADER_BYTES || raw[0] !== USER_STATE_MAGIC || raw[1] !== FORMAT) throw new InvalidUserStateError('not a binary user state');
  const reader = new Reader(raw, 2);
  const nTypes = reader.u32();
  const storedDim = reader.u32();
  const nCategories = reader.u32();
  const nCreators = reader.u32();
  const nFollows = reader.u32();
  const nRecent = reader.u32();
  const doublesAt = reader.at;
  const doubles = 4 + 3 * nTypes + storedDim + nCategories + nCreators + 2 * nRecent;
  reader.skip(doubles * 8);

  const types = reader.names(nTypes, TYPE_NAMES) ?? EVENT_TYPES;
  const categoryKeys = reader.strings(nCategories);
  const creatorKeys = reader.strings(nCreators);
  const follows = reader.strings(nFollows);
  const recentIds = reader.strings(nRecent);
  if (reader.at !== raw.length) throw new InvalidUserStateError(`user state has ${raw.length - reader.at} bytes past its end`);

  const numbers = new Reader(raw, doublesAt);
  const version = numbers.f64();
  const lastEventAt = numbers.f64();
  const watchMs = numbers.f64();
  const watchedDurationMs = numbers.f64();
  const counts = numbers.counts(types);
  const recent1h = numbers.counts(types);
  const recent24h = numbers.counts(types);
  const embedding = new Array<number>(dim);
  for (let i = 0; i < storedDim; i++) {
    const v = numbers.f64();
    if (i < dim) embedding[i] = v;
  }
  // A state stored with another embedding size starts its taste over (as JSON states did).
  if (storedDim !== dim) embedding.fill(0);
  const categoryAffinity = numbers.map(categoryKeys);
  const creatorAffinity = numbers.map(creatorKeys);
  const recent: RecentEngagement[] = new Array(nRecent);
  const timesAt = numbers.at + nRecent * 8;
  for (let i = 0; i < nRecent; i++) recent[i] = [recentIds[i], raw.readDoubleLE(numbers.at + i * 8), raw.readDoubleLE(timesAt + i * 8)];
  return {
    version,
    lastEventAt,
    counts,
    recent1h,
    recent24h,
    watchMs,
    watchedDurationMs,
    categoryAffinity,
    creatorAffinity,
    follows,
    embedding,
    recent,
  };
}

/** The applied-event count of a stored binary state, without decoding the rest. */
export function binaryUserStateVersion(raw: Buffer): number {
  if (raw.length < HEADER_BYTES + 8 || !isBinaryUserState(raw)) throw new InvalidUserStateError('not a binary user state');
  return raw.readDoubleLE(HEADER_BYTES);
}

class Reader {
  constructor(
    private readonly buf: Buffer,
    public at: number,
  ) {}

  u32(): number {
    const v = this.buf.readUInt32LE(this.at);
    this.at += 4;
    return v;
  }

  f64(): number {
    const v = this.buf.readDoubleLE(this.at);
    this.at += 8;
    return v;
  }

  skip(bytes: number): void {
    if (this.at + bytes > this.buf.length) throw new InvalidUserStateError('user state is truncated');
    this.at += bytes;
  }

  strings(n: number): string[] {
    const out = new Array<string>(n);
    for (let i = 0; i < n; i++) {
      const length = this.u32();
      this.skip(length);
      out[i] = this.buf.toString('utf8', this.at - length, this.at);
    }
    return out;
  }

  /** The stored event type names, or null when they are the running code's (`current`, encoded). */
  names(n: number, current: Buffer): readonly EventType[] | null {
    const start = this.at;
    const names = this.strings(n);
    if (this.at - start === current.length && this.buf.compare(current, 0, current.length, start, this.at) === 0) return null;
    return names as EventType[];
  }

  /** Counts per type, built property by property in the running code's type order (one hidden class). */
  counts(stored: readonly EventType[]): EventCounts {
    const counts = {} as EventCounts;
    if (stored === EVENT_TYPES) {
      for (const t of EVENT_TYPES) counts[t] = this.f64();
      return counts;
    }
    const byName = new Map<string, number>();
    for (const t of stored) byName.set(t, this.f64());
    for (const t of EVENT_TYPES) counts[t] = byName.get(t) ?? 0;
    return counts;
  }

  map(keys: string[]): Map<string, number> {
    const map = new Map<string, number>();
    for (const k of keys) map.set(k, this.f64());
    return map;
  }
}

function encodeStrings(values: readonly string[]): Buffer {
  return Buffer.concat(values.flatMap((v) => {
    const bytes = Buffer.from(v, 'utf8');
    const length = Buffer.alloc(4);
    length.writeUInt32LE(bytes.length, 0);
    return [length, bytes];
  }));
}
