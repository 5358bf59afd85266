/**
 * A user's stable position in [0, 1) for splitting traffic between models: FNV-1a of
 * the user id, so the same user always lands in the same variant on every instance.
 */
export function abBucket(userId: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < userId.length; i++) {
    h ^= userId.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) / 4294967296;
}

/** How many of the top `k` of `a` are also in the top `k` of `b` (both score arrays over the same candidates). */
export function topKOverlap(a: ArrayLike<number>, b: ArrayLike<number>, n: number, k: number): number {
  const top = (s: ArrayLike<number>) =>
    Array.from({ length: n }, (_, i) => i)
      .sort((x, y) => s[y] - s[x])
      .slice(0, k);
  const inB = new Set(top(b));
  return top(a).filter((i) => inB.has(i)).length;
}
