import fc from 'fast-check';
import { OrdinalSet } from './ordinal-set';

describe(OrdinalSet.name, () => {
  it('adds each ordinal once and says whether it was new', () => {
    const set = new OrdinalSet();
    expect([set.add(0), set.add(7), set.add(0), set.add(7), set.add(100_000)]).toEqual([true, true, false, false, true]);
    expect(set.size).toBe(3);
    expect([set.has(0), set.has(7), set.has(100_000), set.has(1), set.has(99_999)]).toEqual([true, true, true, false, false]);
  });

  it('answers as a Set would, for any ordinals, growing past its expected size', () => {
    fc.assert(
      fc.property(fc.array(fc.nat({ max: 2_000_000 }), { maxLength: 3000 }), fc.array(fc.nat({ max: 2_000_000 })), fc.nat({ max: 64 }), (added, asked, expected) => {
        const set = new OrdinalSet(expected);
        const reference = new Set<number>();
        for (const o of added) {
          expect(set.add(o)).toBe(!reference.has(o));
          reference.add(o);
        }
        expect(set.size).toBe(reference.size);
        for (const o of [...added, ...asked]) expect(set.has(o)).toBe(reference.has(o));
      }),
    );
  });

  it('refuses what is not an ordinal', () => {
    const set = new OrdinalSet();
    for (const bad of [-1, 1.5, NaN, 2 ** 31]) expect(() => set.add(bad)).toThrow(RangeError);
    expect(set.size).toBe(0);
  });
});
