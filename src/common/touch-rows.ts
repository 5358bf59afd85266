/** Where the touch loops leave their sums, so the reads they exist for cannot be optimised away. */
let sink = 0;

/** Keeps a touch loop's sum (see touchRows). */
export function keepTouched(sum: number): void {
  sink = sum;
}

/**
 * Reads one value in every 64-byte cache line of each of `rows`' rows (`width` floats,
 * the row of `keys[i]` starting at `keys[i] * width`; keys outside the table are
 * skipped). A feed's candidates come from anywhere in a catalog-sized table, so each
 * row is a cache miss. In this short loop the CPU has many of them in flight at once;
 * a loop that does real work per row (a dot product) waits on each in turn. Called
 * first, it made each of the feature matrix's two per-candidate dot products (500
 * candidates, 32 dimensions) 1.7-3x faster on a 2-core VM.
 */
export function touchRows(rows: Float32Array, keys: Int32Array, width: number): void {
  let sum = 0;
  const limit = rows.length - width;
  for (let i = 0; i < keys.length; i++) {
    const at = keys[i] * width;
    if (at < 0 || at > limit) continue;
    for (let k = 0; k < width; k += 16) sum += rows[at + k];
    sum += rows[at + width - 1];
  }
  keepTouched(sum);
}
