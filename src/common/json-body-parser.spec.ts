import { exceedsJsonDepth } from './json-body-parser';

const depthOk = (text: string, max: number) => !exceedsJsonDepth(Buffer.from(text), max);

describe('exceedsJsonDepth', () => {
  it('counts nesting of objects and arrays', () => {
    expect(depthOk('{"a":[1,{"b":2}]}', 3)).toBe(true);
    expect(depthOk('{"a":[1,{"b":2}]}', 2)).toBe(false);
    expect(depthOk('[]', 1)).toBe(true);
    expect(depthOk('1', 0)).toBe(true);
  });

  it('ignores brackets inside strings, escaped quotes included', () => {
    expect(depthOk('{"a":"[[[[{{{{"}', 1)).toBe(true);
    expect(depthOk('{"a":"\\"[[[[","b":"\\\\"}', 1)).toBe(true);
    expect(depthOk('{"a":"\\\\",[[[]]]}', 2)).toBe(false);
  });

  it('stops early on a hostile body', () => {
    expect(depthOk('['.repeat(1_000_000), 32)).toBe(false);
  });
});
