import { findUnstorableText } from './unstorable-text';

describe(findUnstorableText.name, () => {
  it('names the path of a string with NUL or a lone surrogate, in values and keys', () => {
    expect(findUnstorableText({ videos: [{ title: 'ok' }, { tags: ['a', 'x\ud800'] }] })).toBe(
      'videos.1.tags.1 must be well-formed Unicode (no lone surrogates)',
    );
    expect(findUnstorableText({ events: [{ videoId: 'v\u0000' }] })).toBe('events.0.videoId must not contain NUL (\\u0000) characters');
    expect(findUnstorableText({ a: { ['k\udc00']: 1 } })).toBe('property name at a must be well-formed Unicode (no lone surrogates)');
    expect(findUnstorableText('\u0000')).toBe('body must not contain NUL (\\u0000) characters');
  });

  it('accepts well-formed text, surrogate pairs included', () => {
    expect(findUnstorableText({ title: '🙂 ok', n: 1, list: [null, true, 'é'] })).toBeNull();
  });
});
