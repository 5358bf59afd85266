import { EVENT_WEIGHTS } from '../events/event-types';
import { engagementType, SequenceScores, sequenceInput } from './sequence-scores';
import { RecentEngagement } from './user-state';

describe('sequence input from the online recent list', () => {
  const items = new Map([
    ['a', 1],
    ['b', 2],
    ['c', 3],
  ]);
  const itemOf = (id: string) => items.get(id) ?? 0;

  it('keeps positively engaged videos the model knows, oldest first, typed by weight', () => {
    const recent: RecentEngagement[] = [
      ['a', EVENT_WEIGHTS.view, 1],
      ['x', 3, 2], // unknown to the model
      ['b', -1, 3], // skipped
      ['c', EVENT_WEIGHTS.like, 4],
    ];
    const input = sequenceInput(recent, itemOf, 50);
    expect(Array.from(input.items)).toEqual([1, 3]);
    expect(Array.from(input.types)).toEqual([0, 1]);
  });

  it('takes the most recent maxLength', () => {
    const recent: RecentEngagement[] = [
      ['a', 1, 1],
      ['b', 1, 2],
      ['c', 1, 3],
    ];
    expect(Array.from(sequenceInput(recent, itemOf, 2).items)).toEqual([2, 3]);
  });

  it('types a view as light and anything stronger as strong', () => {
    expect(engagementType(EVENT_WEIGHTS.view)).toBe(0);
    expect(engagementType(EVENT_WEIGHTS.view * 0.3)).toBe(0);
    expect(engagementType(EVENT_WEIGHTS.complete)).toBe(1);
  });
});

describe('SequenceScores', () => {
  const table = Float32Array.from([1, 0, 0, 1, 0, 0]); // key 0, key 1, key 2 (not learned)

  it('scores a key by the dot product with the user vector, 0 for unknown keys', () => {
    const s = SequenceScores.of(Float32Array.from([2, 3]), table, 2);
    expect(s.score(0)).toBe(2);
    expect(s.score(1)).toBe(3);
    expect(s.score(2)).toBe(0);
    expect(s.score(-1)).toBe(0);
    expect(s.score(7)).toBe(0);
  });

  it('encodes the user once, on first use, and scores 0 without a vector', () => {
    const encode = jest.fn(() => Float32Array.from([1, 1]));
    const s = new SequenceScores(encode, table, 2);
    expect(encode).not.toHaveBeenCalled();
    expect(s.score(0) + s.score(1)).toBe(2);
    expect(encode).toHaveBeenCalledTimes(1);
    expect(SequenceScores.of(null, table, 2).score(0)).toBe(0);
  });
});
