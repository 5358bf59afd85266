import { SequencePass } from './sequence-pass';
import { createRng, denseSize, denseViews, initWeights, SequenceShape } from './sequence-weights';
import { SampledSoftmax, SparseRows } from './train-sequence-model';

const shape: SequenceShape = { numItems: 12, dim: 8, maxLength: 6, numTypes: 3, numBlocks: 2 };
const seq = Int32Array.from([4, 9, 2, 11, 5]);
const types = Int32Array.from([0, 2, 1, 1, 0]);
// 2 is also a target (masked out as a negative for that position); 3 is drawn twice.
const negatives = Int32Array.from([3, 7, 2, 12, 3]);

function setup(dropout: number) {
  const { items, dense } = initWeights(shape, 11);
  const noise = createRng(5);
  // Away from the initial gains of 1 and biases of 0, so every term of the backward pass matters.
  for (let i = 0; i < dense.length; i++) dense[i] += (noise() - 0.5) * 0.2;
  const weights = denseViews(dense, shape);
  const pass = new SequencePass(shape, dropout);
  const { dim } = shape;
  const logQ = Float64Array.from({ length: shape.numItems + 1 }, (_, item) => item * 0.01);
  const softmax = new SampledSoftmax(negatives.length, dim, shape.maxLength);
  const negGrad = softmax.grad;
  const itemGrads = new SparseRows(shape.numItems + 1, dim);
  const dOut = new Float64Array(shape.maxLength * dim);
  const run = () => {
    let drawn = 0;
    softmax.draw(items, () => negatives[drawn++], logQ);
    // The same seed each time replays the same dropout masks.
    pass.forward(weights, items, seq, types, 0, 4, dropout > 0 ? createRng(99) : undefined);
    return softmax.windowLoss(pass, items, seq, 0, logQ, 1, dOut, itemGrads);
  };
  return { items, dense, weights, pass, itemGrads, negGrad, dOut, run };
}

function checkGradients(dropout: number): void {
  const { items, dense, weights, pass, itemGrads, negGrad, dOut, run } = setup(dropout);
  const { dim } = shape;
  const gradBuf = new Float64Array(denseSize(shape));
  run();
  pass.backward(weights, dOut, denseViews(gradBuf, shape));
  const itemGrad = new Float64Array(items.length);
  itemGrads.rows.forEach((row, s) => {
    for (let k = 0; k < dim; k++) itemGrad[row * dim + k] += itemGrads.grad[s * dim + k];
  });
  negatives.forEach((item, j) => {
    for (let k = 0; k < dim; k++) itemGrad[item * dim + k] += negGrad[j * dim + k];
  });
  for (let i = 0; i < pass.n; i++) for (let k = 0; k < dim; k++) itemGrad[seq[i] * dim + k] += pass.inputGrad[i * dim + k];

  const eps = 1e-5;
  let worst = 0;
  let largest = 0;
  for (let i = 0; i < dense.length; i++) {
    const w = dense[i];
    dense[i] = w + eps;
    const up = run();
    dense[i] = w - eps;
    const down = run();
    dense[i] = w;
    const numeric = (up - down) / (2 * eps);
    worst = Math.max(worst, Math.abs(numeric - gradBuf[i]));
    largest = Math.max(largest, Math.abs(gradBuf[i]));
  }
  expect(largest).toBeGreaterThan(0.01);
  expect(worst / largest).toBeLessThan(1e-5);

  // The item table is float32: divide by the step actually stored.
  const itemEps = 1e-3;
  let itemWorst = 0;
  let itemLargest = 0;
  for (let i = dim; i < items.length; i++) {
    const w = items[i];
    items[i] = w + itemEps;
    const hi = items[i];
    const up = run();
    items[i] = w - itemEps;
    const lo = items[i];
    const down = run();
    items[i] = w;
    const numeric = (up - down) / (hi - lo);
    itemWorst = Math.max(itemWorst, Math.abs(numeric - itemGrad[i]));
    itemLargest = Math.max(itemLargest, Math.abs(itemGrad[i]));
  }
  expect(itemLargest).toBeGreaterThan(0.01);
  expect(itemWorst / itemLargest).toBeLessThan(1e-4);
  // Items in no role get no gradient: 1, 6, 8, 10.
  for (const item of [1, 6, 8, 10]) expect(itemGrad.subarray(item * dim, (item + 1) * dim).every((g) => g === 0)).toBe(true);
}

describe(SequencePass.name, () => {
  it('back-propagates the sampled-softmax loss like numeric differences', () => checkGradients(0));

  it('back-propagates through fixed dropout masks', () => checkGradients(0.3));

  it('ignores what lies before the window and pads on the left', () => {
    const { weights, items, pass } = setup(0);
    pass.forward(weights, items, seq, types, 1, 4);
    const short = pass.out.slice(0, 3 * shape.dim);
    pass.forward(weights, items, seq.subarray(1, 4), types.subarray(1, 4), 0, 3);
    expect(pass.out.slice(0, 3 * shape.dim)).toEqual(short);
    pass.forward(weights, items, seq, types, 0, 4);
    expect(pass.out.slice(2 * shape.dim, 3 * shape.dim)).not.toEqual(short.slice(shape.dim, 2 * shape.dim));
  });
});
