import fc from 'fast-check';
import { EVENT_TYPES } from '../events/event-types';
import { legacyUserStateJson } from '../../test/support/legacy-user-state';
import { InvalidUserStateError, USER_STATE_MAGIC } from './user-state-binary';
import { applyUserEvent, decodeUserState, emptyUserState, encodeUserState, storedUserStateVersion, UserState } from './user-state';

const DIM = 4;
const name = fc.string({ minLength: 1, maxLength: 24, unit: 'grapheme' });
const finite = fc.double({ noNaN: true, noDefaultInfinity: true });
const counts = fc.tuple(...EVENT_TYPES.map(() => fc.nat())).map((values) => Object.fromEntries(EVENT_TYPES.map((t, i) => [t, values[i]])));

const userState: fc.Arbitrary<UserState> = fc.record({
  version: fc.nat(),
  lastEventAt: fc.integer({ min: 0, max: 4_000_000_000_000 }),
  counts,
  recent1h: counts,
  recent24h: counts,
  watchMs: fc.nat(),
  watchedDurationMs: fc.nat(),
  categoryAffinity: fc.uniqueArray(fc.tuple(name, finite), { selector: ([k]) => k, maxLength: 12 }).map((e) => new Map(e)),
  creatorAffinity: fc.uniqueArray(fc.tuple(name, finite), { selector: ([k]) => k, maxLength: 64 }).map((e) => new Map(e)),
  follows: fc.uniqueArray(name, { maxLength: 20 }),
  embedding: fc.array(finite, { minLength: DIM, maxLength: DIM }),
  recent: fc.array(fc.tuple(name, finite, fc.integer({ min: 0, max: 4_000_000_000_000 })), { maxLength: 50 }),
}) as fc.Arbitrary<UserState>;

describe('user state, binary form', () => {
  it('decodes to the state it encoded, whatever the ids (any UTF-8) and values', () => {
    fc.assert(
      fc.property(userState, (state) => {
        const stored = encodeUserState(state);
        expect(stored[0]).toBe(USER_STATE_MAGIC);
        const decoded = decodeUserState(Buffer.from(stored), DIM);
        expect(decoded).toEqual(state);
        expect([...decoded.creatorAffinity.keys()]).toEqual([...state.creatorAffinity.keys()]);
        expect(storedUserStateVersion(stored)).toBe(state.version);
      }),
    );
  });

  it('is smaller than the JSON it replaces', () => {
    const state = emptyUserState(32);
    const video = { id: '', creatorId: '', title: '', category: '', tags: [], durationMs: 20_000, createdAt: 0, embedding: new Float32Array(32).fill(0.1), active: true };
    for (let i = 0; i < 80; i++) {
      const v = { ...video, id: `v_${String(i).padStart(7, '0')}`, creatorId: `c_${i % 40}`, category: `cat_${i % 7}` };
      applyUserEvent(state, { eventId: `e${i}`, userId: 'u', videoId: v.id, type: i % 3 ? 'view' : 'like', watchMs: 9_000, occurredAt: 1_795_000_000_000 + i * 60_000 }, v);
    }
    const binary = encodeUserState(state);
    expect(decodeUserState(binary, 32)).toEqual(state);
    expect(binary.length).toBeLessThan(JSON.stringify(legacyUserStateJson(state)).length * 0.7);
  });

  it('starts the taste vector over when the embedding size changed, as the JSON form did', () => {
    const state = { ...emptyUserState(4), embedding: [0.5, 0.5, 0.5, 0.5], version: 3 };
    const decoded = decodeUserState(encodeUserState(state), 8);
    expect(decoded.embedding).toEqual(new Array(8).fill(0));
    expect(decoded.version).toBe(3);
  });

  it('decodes a state written with other event types by name: missing ones count zero, unknown ones are dropped', () => {
    const state = emptyUserState(DIM);
    state.counts.like = 3;
    state.counts.view = 7;
    const stored = encodeUserState(state);
    // Rename the stored 'like' to a type this code does not know (same length, so the layout holds).
    const at = stored.indexOf(Buffer.from('like'));
    stored.write('lyke', at);
    const decoded = decodeUserState(stored, DIM);
    expect(decoded.counts.like).toBe(0);
    expect(decoded.counts.view).toBe(7);
    expect(Object.keys(decoded.counts)).toEqual([...EVENT_TYPES]);
  });

  it('refuses a truncated or padded state instead of reading past it', () => {
    const state = emptyUserState(DIM);
    state.recent.push(['v1', 1, 1000]);
    const stored = encodeUserState(state);
    for (const bad of [stored.subarray(0, stored.length - 1), stored.subarray(0, 10), Buffer.concat([stored, Buffer.from([0])])]) {
      expect(() => decodeUserState(bad, DIM)).toThrow(InvalidUserStateError);
    }
    const huge = Buffer.from(stored);
    huge.writeUInt32LE(0xffffffff, 2 + 5 * 4); // recent count
    expect(() => decodeUserState(huge, DIM)).toThrow(InvalidUserStateError);
  });

  it('still reads a JSON state, from a string or from its bytes', () => {
    const state = emptyUserState(DIM);
    state.categoryAffinity.set('dance', 1.5);
    const json = JSON.stringify(legacyUserStateJson(state));
    expect(decodeUserState(json, DIM)).toEqual(state);
    expect(decodeUserState(Buffer.from(json), DIM)).toEqual(state);
    expect(storedUserStateVersion(Buffer.from(JSON.stringify({ ...legacyUserStateJson(state), version: 9 })))).toBe(9);
  });
});
