/**
 * The k items with the largest key, largest first, in O(n log k) with a min-heap:
 * ordering a million-video catalog by a key must not block the event loop for long.
 */
export function topK<T>(items: Iterable<T>, k: number, key: (item: T) => number): T[] {
  if (k <= 0) return [];
  const heap: T[] = [];
  const keys: number[] = [];
  const swap = (i: number, j: number) => {
    [heap[i], heap[j]] = [heap[j], heap[i]];
    [keys[i], keys[j]] = [keys[j], keys[i]];
  };
  const down = (i: number) => {
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < heap.length && keys[l] < keys[m]) m = l;
      if (r < heap.length && keys[r] < keys[m]) m = r;
      if (m === i) return;
      swap(i, m);
      i = m;
    }
  };
  for (const item of items) {
    const v = key(item);
    if (heap.length < k) {
      heap.push(item);
      keys.push(v);
      for (let i = heap.length - 1; i > 0; ) {
        const p = (i - 1) >> 1;
        if (keys[p] <= keys[i]) break;
        swap(i, p);
        i = p;
      }
    } else if (v > keys[0]) {
      heap[0] = item;
      keys[0] = v;
      down(0);
    }
  }
  const order = heap.map((_, i) => i).sort((a, b) => keys[b] - keys[a]);
  return order.map((i) => heap[i]);
}
