import { requestIdFrom } from './request-id';

describe('requestIdFrom', () => {
  it('keeps an acceptable caller id', () => {
    expect(requestIdFrom('abc-123_x.y:z')).toBe('abc-123_x.y:z');
    expect(requestIdFrom(['first', 'second'])).toBe('first');
  });

  it('replaces a missing, empty, long or unsafe id with a UUID', () => {
    for (const bad of [undefined, '', 'x'.repeat(129), 'a b', 'a\nb', 'é', '<script>']) {
      expect(requestIdFrom(bad)).toMatch(/^[0-9a-f-]{36}$/);
    }
  });
});
