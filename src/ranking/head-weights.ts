/** Parses `like=1,complete=0.7,skip=-1` into a map; the format is validated by AppConfig. */
export function parseHeadWeights(spec: string): Map<string, number> {
  const weights = new Map<string, number>();
  for (const pair of spec.split(',')) {
    const [name, value] = pair.split('=').map((s) => s.trim());
    if (name) weights.set(name, Number(value));
  }
  return weights;
}

/** One weight per model head, in head order; heads without a configured weight count 0. */
export function weightsForHeads(heads: readonly string[], weights: ReadonlyMap<string, number>): Float32Array {
  return Float32Array.from(heads, (h) => weights.get(h) ?? 0);
}

/** out[i] = sum over heads of weight[h] * probs[i * heads + h]. */
export function blendHeads(probs: Float32Array, rows: number, weights: Float32Array, out: Float32Array): Float32Array {
  const heads = weights.length;
  for (let i = 0; i < rows; i++) {
    let s = 0;
    const base = i * heads;
    for (let h = 0; h < heads; h++) s += weights[h] * probs[base + h];
    out[i] = s;
  }
  return out;
}
