import { InferenceSession, Tensor } from 'onnxruntime-node';
import { DEFAULT_LISTWISE, fitListwiseLinear, LISTWISE_HEAD, rowGroups } from './listwise';
import { createRng, fitStandardizer, predict } from './mlp';
import { exportMlpToOnnx, ONNX_INPUT_NAME, ONNX_OUTPUT_NAME } from './onnx-export';

describe('rowGroups', () => {
  it('groups consecutive rows of one user and moment, keeping those with a positive and another row', () => {
    const user = [1, 1, 1, 2, 2, 3, 3, 1, 1];
    const at = [5, 5, 5, 5, 5, 6, 6, 7, 7];
    const positive = new Set([0, 3, 4, 8]);
    // Rows 3-4 are all positive and rows 5-6 have none: neither teaches an order.
    expect(rowGroups(user, at, user.length, (r) => positive.has(r))).toEqual([
      { from: 0, to: 3 },
      { from: 7, to: 9 },
    ]);
    // Only the first `rows` rows are read.
    expect(rowGroups(user, at, 3, (r) => positive.has(r))).toEqual([{ from: 0, to: 3 }]);
  });
});

/**
 * Groups of five candidates where the engaged one has the highest "relevance" (feature 0)
 * and a "popularity" (feature 1) no higher on average than the rest, plus a per-user
 * feature (2) that is the same across a group: only feature 0 orders a group.
 */
function syntheticGroups(groups: number, seed: number) {
  const rng = createRng(seed);
  const width = 3;
  const size = 5;
  const rows = groups * size;
  const x = new Float32Array(rows * width);
  const user = new Int32Array(rows);
  const at = new Float64Array(rows);
  const engaged = new Uint8Array(rows);
  for (let g = 0; g < groups; g++) {
    const perUser = rng() * 10;
    let best = -1;
    let bestValue = -Infinity;
    for (let i = 0; i < size; i++) {
      const r = g * size + i;
      user[r] = g % 97;
      at[r] = g;
      x[r * width] = rng() * 2;
      x[r * width + 1] = rng() * 5;
      x[r * width + 2] = perUser;
      const value = x[r * width] + (rng() - 0.5) * 0.5;
      if (value > bestValue) [best, bestValue] = [r, value];
    }
    engaged[best] = 1;
  }
  return { x, user, at, engaged, rows, width, size };
}

describe('fitListwiseLinear', () => {
  const data = syntheticGroups(1200, 5);
  const positive = (r: number) => data.engaged[r] === 1;
  const groups = rowGroups(data.user, data.at, data.rows, positive);
  const norm = fitStandardizer(data.x, data.rows, data.width);

  it('learns what orders candidates within a group, and ranks the engaged one first far above chance', async () => {
    const fit = await fitListwiseLinear(data.x, data.width, norm, positive, groups.slice(0, 1000), groups.slice(1000), DEFAULT_LISTWISE);
    const [relevance, popularity] = fit.weights.layers[0].weights;
    expect(fit.weights.heads).toEqual([LISTWISE_HEAD]);
    expect(fit.weights.hidden).toEqual([]);
    expect(relevance).toBeGreaterThan(1);
    expect(Math.abs(popularity)).toBeLessThan(relevance / 5);
    expect(fit.validationLoss).toBeLessThan(Math.log(data.size) * 0.7);

    const scores = predict(fit.weights, data.x, data.rows, norm);
    let top = 0;
    for (const { from, to } of groups.slice(1000)) {
      let best = from;
      for (let r = from; r < to; r++) if (scores[r] > scores[best]) best = r;
      if (positive(best)) top++;
    }
    // Chance is 1 in 5.
    expect(top / (groups.length - 1000)).toBeGreaterThan(0.7);
  });

  it('exports to ONNX with the same scores as predict', async () => {
    const fit = await fitListwiseLinear(data.x, data.width, norm, positive, groups.slice(0, 200), [], { ...DEFAULT_LISTWISE, epochs: 20 });
    const session = await InferenceSession.create(exportMlpToOnnx(fit.weights, norm));
    try {
      const rows = 50;
      const x = data.x.subarray(0, rows * data.width);
      const out = (await session.run({ [ONNX_INPUT_NAME]: new Tensor('float32', x, [rows, data.width]) }))[ONNX_OUTPUT_NAME];
      expect(out.dims).toEqual([rows, 1]);
      const expected = predict(fit.weights, x, rows, norm);
      const got = out.data as Float32Array;
      for (let i = 0; i < rows; i++) expect(Math.abs(got[i] - expected[i])).toBeLessThan(1e-5);
    } finally {
      await session.release();
    }
  });
});
