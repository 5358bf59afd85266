import { abBucket, topKOverlap } from './ab-bucket';

describe('abBucket', () => {
  it('is stable per user and spreads users evenly', () => {
    expect(abBucket('u_0000042')).toBe(abBucket('u_0000042'));
    const buckets = Array.from({ length: 10_000 }, (_, i) => abBucket(`u_${i}`));
    expect(Math.min(...buckets)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...buckets)).toBeLessThan(1);
    const below = buckets.filter((b) => b < 0.3).length / buckets.length;
    expect(below).toBeGreaterThan(0.28);
    expect(below).toBeLessThan(0.32);
  });
});

describe('topKOverlap', () => {
  it('counts the shared items of two top-k lists', () => {
    expect(topKOverlap([5, 4, 3, 2, 1], [5, 4, 3, 2, 1], 5, 2)).toBe(2);
    expect(topKOverlap([5, 4, 3, 2, 1], [1, 2, 3, 4, 5], 5, 2)).toBe(0);
    expect(topKOverlap([5, 4, 3, 2, 1], [4, 5, 1, 2, 3], 5, 3)).toBe(2);
  });
});
