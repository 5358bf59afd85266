/** Parses `like:1,complete:1,share:2,skip:-1` into weights by head. */
export function parseHeadWeights(raw: string): Record<string, number> {
  const weights: Record<string, number> = {};
  for (const part of raw.split(',')) {
    const [head, value] = part.split(':');
    const w = Number(value);
    if (!head || !Number.isFinite(w)) throw new RangeError(`bad head weight "${part}" (expected head:number)`);
    weights[head.trim()] = w;
  }
  return weights;
}

/** One score per row: the weighted sum of its head probabilities (heads without a weight count 0). */
export function blendHeads(scores: ArrayLike<number>, heads: readonly string[], weights: Record<string, number>): Float64Array {
  const h = heads.length;
  const w = heads.map((name) => weights[name] ?? 0);
  const rows = scores.length / h;
  const out = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    let s = 0;
    for (let j = 0; j < h; j++) s += w[j] * scores[r * h + j];
    out[r] = s;
  }
  return out;
}
