/**
 * The k items with the largest key, largest first (ties keep input order). A native
 * numeric sort of the keys finds the cut-off, so only the few items above it are
 * sorted with a comparator: ordering a 100k-video catalog costs milliseconds, and the
 * cost does not depend on the input order (a heap degrades on already-sorted input).
 */
export function topK<T>(items: readonly T[], k: number, key: (item: T) => number): T[] {
  const n = items.length;
  if (k <= 0 || n === 0) return [];
  const keys = new Float64Array(n);
  for (let i = 0; i < n; i++) keys[i] = key(items[i]);
  let picked: number[];
  if (n <= k) picked = Array.from({ length: n }, (_, i) => i);
  else {
    const cutoff = keys.slice().sort()[n - k];
    picked = [];
    for (let i = 0; i < n; i++) if (keys[i] >= cutoff) picked.push(i);
  }
  picked.sort((a, b) => keys[b] - keys[a] || a - b);
  if (picked.length > k) picked.length = k;
  return picked.map((i) => items[i]);
}
