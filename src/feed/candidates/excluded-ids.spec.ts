import fc from 'fast-check';
import { videoIdHash } from '../../catalog/video-id-hash';
import { ExcludedIds } from './excluded-ids';

/** Asks as the candidate pool does: by the id's hash, then the video. */
const excludes = (excluded: ExcludedIds, id: string) => excluded.excludes(videoIdHash(id), { id });

describe(ExcludedIds.name, () => {
  it('excludes exactly the ids of its lists', () => {
    const excluded = new ExcludedIds(['a', 'b'], new Set(['c']), []);
    expect(['a', 'b', 'c'].map((id) => excludes(excluded, id))).toEqual([true, true, true]);
    expect(excludes(excluded, 'd')).toBe(false);
  });

  it('tells apart ids with the same hash', () => {
    // 'costarring' and 'liquid' collide under 32-bit FNV-1a.
    expect(videoIdHash('costarring')).toBe(videoIdHash('liquid'));
    const one = new ExcludedIds(['costarring']);
    expect(excludes(one, 'costarring')).toBe(true);
    expect(excludes(one, 'liquid')).toBe(false);
    const both = new ExcludedIds(['costarring', 'liquid']);
    expect(excludes(both, 'costarring')).toBe(true);
    expect(excludes(both, 'liquid')).toBe(true);
  });

  it('answers as a set of the ids would, for any ids, and counts each id once', () => {
    fc.assert(
      fc.property(fc.array(fc.string()), fc.array(fc.string()), fc.array(fc.string()), (seen, served, asked) => {
        const excluded = new ExcludedIds(seen, served);
        const set = new Set([...seen, ...served]);
        expect(excluded.size).toBe(set.size);
        for (const id of [...seen, ...served, ...asked]) expect(excludes(excluded, id)).toBe(set.has(id));
      }),
    );
  });

  it('holds thousands of ids (the table grows to twice their number)', () => {
    const ids = Array.from({ length: 3000 }, (_, i) => `v_${i}`);
    const excluded = new ExcludedIds(ids, ids);
    expect(excluded.size).toBe(3000);
    expect(ids.every((id) => excludes(excluded, id))).toBe(true);
    expect(excludes(excluded, 'v_3000')).toBe(false);
  });
});
