import { EventType } from '../../events/event-types';
import { CatalogVideo } from '../../features/catalog-video';
import { applyUserEvent, emptyUserState } from '../../features/user-state';
import { EventLog, ImpressionLog, Interner, NO_REQUEST, TrainingLog } from '../data/training-log';
import { boundedSequences, engagementSequences, pointInTimeScores, SequenceModels } from './fit-sequence-models';
import { encodeUsers, SequenceModel } from './sequence-model';
import { trainSequenceModel } from './train-sequence-model';

const T0 = Date.UTC(2026, 9, 1);

function catalog(n: number): CatalogVideo[] {
  return Array.from({ length: n }, (_, i) => ({
    id: `v${i}`,
    creatorId: 'c',
    title: `v${i}`,
    category: 'k',
    tags: [],
    durationMs: 10_000,
    createdAt: T0 - 1,
    embedding: null,
    active: true,
  }));
}

function logOf(videos: CatalogVideo[], events: [user: string, video: number, type: EventType, watchMs?: number][]): TrainingLog {
  const users = new Interner();
  const log: TrainingLog = {
    catalog: { videos, index: new Map(videos.map((v, i) => [v.id, i])), content: videos.map(() => null), learned: videos.map(() => null) },
    follows: new Map(),
    users,
    requests: new Interner(),
    events: new EventLog(),
    impressions: new ImpressionLog(),
  };
  events.forEach(([user, video, type, watchMs], i) => log.events.push(T0 + i * 1000, users.id(user), video, type, watchMs ?? null, NO_REQUEST));
  return log;
}

describe('engagement sequences from the log', () => {
  it('merges consecutive events on a video into one typed step and drops skipped videos', () => {
    const log = logOf(catalog(5), [
      ['u', 0, 'view', 10_000],
      ['u', 0, 'like'],
      ['u', 1, 'view', 1_000],
      ['u', 2, 'skip'],
      ['u', 3, 'view', 10_000],
      ['w', 4, 'view'],
    ]);
    const seqs = engagementSequences(log, Infinity);
    // w has one engaged video: no position to learn from.
    expect(seqs.users).toEqual([0]);
    expect(Array.from(seqs.items[0])).toEqual([1, 2, 4]);
    expect(Array.from(seqs.types[0])).toEqual([1, 0, 0]);
    expect(seqs.positions).toBe(2);
  });

  it('stops at `until` and keeps only the users asked for', () => {
    const log = logOf(catalog(4), [
      ['u', 0, 'like'],
      ['u', 1, 'like'],
      ['u', 2, 'like'],
      ['w', 3, 'like'],
      ['w', 2, 'like'],
    ]);
    expect(Array.from(engagementSequences(log, T0 + 2000).items[0])).toEqual([1, 2]);
    expect(engagementSequences(log, Infinity, (u) => u === 1).users).toEqual([1]);
  });
});

describe('point-in-time sequence scores', () => {
  it('scores a state with the newest model fitted before the moment, from the online recent list', async () => {
    const videos = catalog(6);
    const log = logOf(videos, [['u', 0, 'like']]);
    const train = (seed: number) =>
      trainSequenceModel({ sequences: [Int32Array.from([1, 2, 3]), Int32Array.from([4, 5, 6])], numItems: 6, numTypes: 2 }, { epochs: 1, seed, negatives: 4, dim: 8 });
    const first = await train(1);
    const second = await train(2);
    const models: SequenceModels = { refreshes: [{ at: T0 + 100, model: first }, { at: T0 + 200, model: second }], serving: second, positions: 4, epochs: 1 };
    const scoresAt = pointInTimeScores(models, log);

    const state = emptyUserState(0);
    const event = { eventId: '', userId: 'u', videoId: '', type: 'like' as EventType, watchMs: null, occurredAt: T0 };
    applyUserEvent(state, { ...event, videoId: 'v0' }, videos[0]);
    applyUserEvent(state, { ...event, videoId: 'v1', occurredAt: T0 + 1 }, videos[1]);
    const expected = (model: SequenceModel) => {
      const user = encodeUsers(model, [Int32Array.from([1, 2])], [Int32Array.from([1, 1])]);
      // Catalog index 4 is model item 5.
      let dot = 0;
      for (let d = 0; d < model.dim; d++) dot += user[d] * model.itemEmbeddings[5 * model.dim + d];
      return dot;
    };
    expect(scoresAt(state, T0 + 50)).toBeNull();
    expect(scoresAt(state, T0 + 150)!.score(4)).toBeCloseTo(expected(first), 5);
    expect(scoresAt(state, T0 + 250)!.score(4)).toBeCloseTo(expected(second), 5);
    expect(scoresAt(emptyUserState(0), T0 + 250)).toBeNull();
  });
});

describe('bounded sequences', () => {
  const seqs = (lengths: number[]) => ({
    users: lengths.map((_, i) => i),
    items: lengths.map((n) => Int32Array.from({ length: n }, (_, k) => k + 1)),
    types: lengths.map((n) => new Int32Array(n)),
    positions: lengths.reduce((s, n) => s + n - 1, 0),
  });

  it('keeps the sequences as they are within the budget', () => {
    const all = seqs([3, 30]);
    expect(boundedSequences(all, 5, 1000)).toBe(all);
  });

  it("over the budget, keeps each user's most recent windows", () => {
    const out = boundedSequences(seqs([3, 30]), 5, 25);
    expect(out.items[0]).toEqual(Int32Array.from([1, 2, 3]));
    // 4 windows of 5 inputs, plus the first target: the last 21 items.
    expect(Array.from(out.items[1])).toEqual(Array.from({ length: 21 }, (_, k) => k + 10));
    expect(out.positions).toBe(2 + 20);
  });

  it('samples every k-th user when the cut sequences still exceed the budget', () => {
    const out = boundedSequences(seqs(Array(10).fill(11)), 50, 30);
    expect(out.users).toEqual([0, 4, 8]);
    expect(out.positions).toBe(30);
  });
});
