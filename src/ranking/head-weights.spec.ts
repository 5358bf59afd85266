import { blendHeads, parseHeadWeights, weightsForHeads } from './head-weights';

describe('head weights', () => {
  it('blends model heads by the configured weights, skip negative, unknown heads 0', () => {
    const weights = parseHeadWeights('like=1, complete=0.7,share=1.5,skip=-1');
    const w = weightsForHeads(['like', 'skip', 'watch_time'], weights);
    expect(Array.from(w)).toEqual([1, -1, 0]);
    const probs = Float32Array.from([0.8, 0.1, 0.9, 0.2, 0.6, 0.3]);
    const out = blendHeads(probs, 2, w, new Float32Array(2));
    expect(out[0]).toBeCloseTo(0.7);
    expect(out[1]).toBeCloseTo(-0.4);
  });
});
