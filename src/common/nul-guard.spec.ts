import { jsonHasNul } from './nul-guard';

describe('jsonHasNul', () => {
  it('finds a \\u0000 escape in a string', () => {
    expect(jsonHasNul('{"id":"a\\u0000b"}')).toBe(true);
    expect(jsonHasNul('{"id":"\\U0000"}')).toBe(true);
    expect(jsonHasNul('{"id":"\\\\\\u0000"}')).toBe(true); // an escaped backslash, then NUL
  });

  it('ignores text that only looks like one', () => {
    expect(jsonHasNul('{"id":"\\\\u0000"}')).toBe(false); // the six characters \u0000
    expect(jsonHasNul('{"id":"u0000","n":0}')).toBe(false);
  });
});
