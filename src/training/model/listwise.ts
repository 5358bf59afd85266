/**
 * A linear ranker fitted with a listwise (softmax) loss: each group is the candidates one
 * user had at one moment (a served page, or a video chosen unprompted with the candidates
 * sampled beside it), and the loss is how little probability the softmax over the group's
 * scores gives to what the user engaged with. It learns how to order candidates against
 * each other, the feed's question, rather than each row's engagement probability. Its
 * output is an MlpWeights with no hidden layer (one `engage` head), so it exports to ONNX
 * and serves like the MLP: a sigmoid of the score, which keeps the order.
 */
import { EventLoopYielder } from '../../common/event-loop-yielder';
import { createRng, MlpWeights, Standardizer } from './mlp';

export const LISTWISE_HEAD = 'engage';

/** Consecutive rows [from, to) of one user at one moment. */
export interface RowGroup {
  from: number;
  to: number;
}

/**
 * Groups rows [0, rows) into runs of the same user and time; keeps those with at least one
 * positive (`positive(r)`) and one other row, the only ones a listwise loss learns from.
 */
export function rowGroups(user: ArrayLike<number>, at: ArrayLike<number>, rows: number, positive: (row: number) => boolean): RowGroup[] {
  const groups: RowGroup[] = [];
  let from = 0;
  for (let r = 1; r <= rows; r++) {
    if (r < rows && user[r] === user[from] && at[r] === at[from]) continue;
    let positives = 0;
    for (let i = from; i < r; i++) if (positive(i)) positives++;
    if (positives > 0 && positives < r - from) groups.push({ from, to: r });
    from = r;
  }
  return groups;
}

export interface ListwiseOptions {
  epochs: number;
  /** Groups per Adam step. */
  batchGroups: number;
  learningRate: number;
  l2: number;
  /** Epochs without a lower validation loss before stopping. */
  patience: number;
  seed: number;
}

export const DEFAULT_LISTWISE: ListwiseOptions = { epochs: 60, batchGroups: 128, learningRate: 0.01, l2: 1e-4, patience: 5, seed: 11 };

export interface ListwiseFit {
  weights: MlpWeights;
  epochs: number;
  bestEpoch: number;
  trainLoss: number;
  validationLoss: number;
}

/**
 * Minibatch Adam on the softmax loss of `train` groups (shuffled each epoch), keeping the weights with the lowest
 * loss on `validation` groups. `x` is rows x width raw features, standardised with `norm`.
 */
export async function fitListwiseLinear(
  x: Float32Array,
  width: number,
  norm: Standardizer,
  positive: (row: number) => boolean,
  train: readonly RowGroup[],
  validation: readonly RowGroup[],
  options: ListwiseOptions = DEFAULT_LISTWISE,
  yielder: EventLoopYielder = new EventLoopYielder(),
): Promise<ListwiseFit> {
  const w = new Float64Array(width);
  const z = (row: number, k: number) => (x[row * width + k] - norm.mean[k]) / norm.std[k];
  const grad = new Float64Array(width);
  const m = new Float64Array(width);
  const v = new Float64Array(width);
  const [b1, b2, eps] = [0.9, 0.999, 1e-8];
  let best = { loss: Infinity, epoch: -1, w: w.slice() };
  let trainLoss = NaN;
  let step = 0;
  let epoch = 0;
  const order = train.slice();
  const rng = createRng(options.seed);
  for (; epoch < options.epochs; epoch++) {
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(rng() * (i + 1));
      [order[i], order[j]] = [order[j], order[i]];
    }
    let epochLoss = 0;
    for (let b = 0; b < order.length; b += options.batchGroups) {
      const batch = order.slice(b, b + options.batchGroups);
      grad.fill(0);
      epochLoss += (await groupLoss(batch, w, width, z, positive, grad, yielder)) * batch.length;
      step++;
      for (let k = 0; k < width; k++) {
        const g = grad[k] / batch.length + options.l2 * w[k];
        m[k] = b1 * m[k] + (1 - b1) * g;
        v[k] = b2 * v[k] + (1 - b2) * g * g;
        const mHat = m[k] / (1 - b1 ** step);
        const vHat = v[k] / (1 - b2 ** step);
        w[k] -= (options.learningRate * mHat) / (Math.sqrt(vHat) + eps);
      }
    }
    trainLoss = epochLoss / Math.max(1, order.length);
    const validationLoss = await groupLoss(validation.length ? validation : train, w, width, z, positive, null, yielder);
    if (validationLoss < best.loss - 1e-6) best = { loss: validationLoss, epoch, w: w.slice() };
    else if (epoch - best.epoch >= options.patience) {
      epoch++;
      break;
    }
  }
  return {
    weights: {
      inputDim: width,
      hidden: [],
      heads: [LISTWISE_HEAD],
      layers: [{ inDim: width, outDim: 1, weights: Float32Array.from(best.w), bias: new Float32Array(1) }],
    },
    epochs: epoch,
    bestEpoch: best.epoch + 1,
    trainLoss,
    validationLoss: best.loss,
  };
}

/** Mean softmax loss over the groups (positives share the target equally); adds the summed gradient to `grad` when given. */
async function groupLoss(
  groups: readonly RowGroup[],
  w: Float64Array,
  width: number,
  z: (row: number, k: number) => number,
  positive: (row: number) => boolean,
  grad: Float64Array | null,
  yielder: EventLoopYielder,
): Promise<number> {
  let total = 0;
  const scores: number[] = [];
  for (let g = 0; g < groups.length; g++) {
    const { from, to } = groups[g];
    scores.length = 0;
    let max = -Infinity;
    let positives = 0;
    for (let r = from; r < to; r++) {
      let s = 0;
      for (let k = 0; k < width; k++) s += w[k] * z(r, k);
      scores.push(s);
      if (s > max) max = s;
      if (positive(r)) positives++;
    }
    let sum = 0;
    for (const s of scores) sum += Math.exp(s - max);
    const logSum = max + Math.log(sum);
    for (let r = from; r < to; r++) {
      const target = positive(r) ? 1 / positives : 0;
      if (target > 0) total -= target * (scores[r - from] - logSum);
      if (grad) {
        const d = Math.exp(scores[r - from] - logSum) - target;
        if (d !== 0) for (let k = 0; k < width; k++) grad[k] += d * z(r, k);
      }
    }
    if ((g & 1023) === 1023) await yielder.pauseIfDue();
  }
  return total / Math.max(1, groups.length);
}
