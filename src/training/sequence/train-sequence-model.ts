import { EventLoopYielder } from '../../common/event-loop-yielder';
import { checkSequences, SequenceModel } from './sequence-model';
import { accumulateWeightGrad, backThroughWeights, matmul, SequencePass } from './sequence-pass';
import { createRng, DenseWeights, denseSize, denseViews, initWeights, SequenceShape } from './sequence-weights';

export interface SequenceTrainingInput {
  /** Per user, item indices 1..numItems in time order. */
  sequences: Int32Array[];
  /** Per user and position, an event-type id in 0..numTypes-1 (e.g. view, engaged, skip). */
  types?: Int32Array[];
  numItems: number;
  /** Default: 1 + the largest type id seen, 1 without types. */
  numTypes?: number;
}

export type NegativeSampling = 'uniform' | 'popularity';

export interface SequenceTrainingOptions {
  dim?: number;
  maxLength?: number;
  numBlocks?: number;
  /** Default: `defaultEpochs` of the number of training positions. */
  epochs?: number;
  learningRate?: number;
  /** Sampled-softmax negatives, shared by every position of a minibatch. */
  negatives?: number;
  negativeSampling?: NegativeSampling;
  /** L2 on the item rows each step touches. */
  l2?: number;
  dropout?: number;
  /** Windows (of up to maxLength positions) per Adam step. */
  batchSize?: number;
  seed?: number;
  yielder?: EventLoopYielder;
  /** Called after each epoch with its mean loss and a way to copy the model so far (for validation); 'stop' ends training. */
  onEpoch?: (epoch: number, loss: number, snapshot: () => SequenceModel) => void | 'stop' | Promise<void | 'stop'>;
}

export const SEQUENCE_DEFAULTS = {
  dim: 32,
  maxLength: 50,
  numBlocks: 1,
  learningRate: 0.005,
  negatives: 128,
  negativeSampling: 'popularity' as NegativeSampling,
  l2: 0,
  dropout: 0.2,
  batchSize: 4,
  seed: 1,
};

/** Passes enough to train on about this many positions in all, within the bounds below. */
const EPOCH_BUDGET_POSITIONS = 1_200_000;
const MIN_EPOCHS = 2;
const MAX_EPOCHS = 20;

/** Small logs need many passes, large ones few: a fixed budget of positions keeps 1M interactions within minutes. */
export function defaultEpochs(positions: number): number {
  return Math.min(MAX_EPOCHS, Math.max(MIN_EPOCHS, Math.round(EPOCH_BUDGET_POSITIONS / Math.max(1, positions))));
}

const BETA1 = 0.9;
const BETA2 = 0.999;
const ADAM_EPS = 1e-8;
/** Popularity sampling draws items in proportion to count^0.75 (the word2vec choice). */
const POPULARITY_POWER = 0.75;

/** Every position of every sequence is a training target: sequences are cut into windows of maxLength inputs from the end. */
function buildWindows(sequences: Int32Array[], maxLength: number): { user: Int32Array; from: Int32Array; to: Int32Array } {
  const user: number[] = [];
  const from: number[] = [];
  const to: number[] = [];
  sequences.forEach((seq, u) => {
    for (let end = seq.length - 1; end >= 1; end -= maxLength) {
      user.push(u);
      from.push(Math.max(0, end - maxLength));
      to.push(end);
    }
  });
  return { user: Int32Array.from(user), from: Int32Array.from(from), to: Int32Array.from(to) };
}

interface NegativeSampler {
  draw(): number;
  /** Per item, the log of its probability of being drawn, subtracted from its logit (sampled-softmax correction); all 0 for uniform. */
  logQ: Float64Array;
}

function negativeSampler(kind: NegativeSampling, sequences: Int32Array[], numItems: number, rng: () => number): NegativeSampler {
  if (kind === 'uniform') return { draw: () => 1 + Math.floor(rng() * numItems), logQ: new Float64Array(numItems + 1) };
  const weight = new Float64Array(numItems + 1);
  for (const seq of sequences) for (const item of seq) weight[item]++;
  const cumulative = new Float64Array(numItems + 1);
  for (let i = 1; i <= numItems; i++) {
    weight[i] = (weight[i] + 1) ** POPULARITY_POWER;
    cumulative[i] = cumulative[i - 1] + weight[i];
  }
  const total = cumulative[numItems];
  const logQ = weight.map((w) => Math.log(w / total));
  return {
    draw: () => {
      const x = rng() * total;
      let lo = 1;
      let hi = numItems;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (cumulative[mid] > x) hi = mid;
        else lo = mid + 1;
      }
      return lo;
    },
    logQ,
  };
}

/** Gradients of the item rows a minibatch touches, keyed by row. */
export class SparseRows {
  private readonly slot: Int32Array;
  rows: number[] = [];
  grad: Float64Array;

  constructor(numRows: number, private readonly dim: number) {
    this.slot = new Int32Array(numRows).fill(-1);
    this.grad = new Float64Array(1024 * dim);
  }

  offset(row: number): number {
    let s = this.slot[row];
    if (s < 0) {
      s = this.rows.length;
      this.slot[row] = s;
      this.rows.push(row);
      if ((s + 1) * this.dim > this.grad.length) {
        const bigger = new Float64Array(this.grad.length * 2);
        bigger.set(this.grad);
        this.grad = bigger;
      }
    }
    return s * this.dim;
  }

  clear(): void {
    for (const r of this.rows) this.slot[r] = -1;
    this.grad.fill(0, 0, this.rows.length * this.dim);
    this.rows = [];
  }
}

/** The negatives a minibatch shares, and the sampled-softmax loss of each window against them. */
export class SampledSoftmax {
  readonly items: Int32Array;
  /** Their embeddings, copied at the start of the minibatch. */
  readonly embeddings: Float64Array;
  readonly logQ: Float64Array;
  /** Loss gradient w.r.t. each negative's embedding, summed over the minibatch. */
  readonly grad: Float64Array;
  private readonly scores: Float64Array;
  private readonly targetGrad: Float64Array;

  constructor(
    negatives: number,
    private readonly dim: number,
    maxLength: number,
  ) {
    this.items = new Int32Array(negatives);
    this.embeddings = new Float64Array(negatives * dim);
    this.logQ = new Float64Array(negatives);
    this.grad = new Float64Array(negatives * dim);
    this.scores = new Float64Array(maxLength * negatives);
    this.targetGrad = new Float64Array(maxLength);
  }

  draw(table: Float32Array, draw: () => number, logQ: Float64Array): void {
    const d = this.dim;
    for (let j = 0; j < this.items.length; j++) {
      const item = (this.items[j] = draw());
      this.logQ[j] = logQ[item];
      for (let k = 0; k < d; k++) this.embeddings[j * d + k] = table[item * d + k];
    }
  }

  /**
   * Position i of the window predicts seq[from + i + 1] against the negatives (a negative equal
   * to the target is left out). Writes d loss / d out into dOut, adds the target rows' gradients
   * to itemGrads and the negatives' to `grad`; `weight` scales all gradients. Returns the loss sum.
   */
  windowLoss(pass: SequencePass, table: Float32Array, seq: Int32Array, from: number, logQ: Float64Array, weight: number, dOut: Float64Array, itemGrads: SparseRows): number {
    const d = this.dim;
    const K = this.items.length;
    const n = pass.n;
    const out = pass.out;
    const z = this.scores;
    backThroughWeights(out, this.embeddings, z, n, K, d, false);
    let loss = 0;
    for (let i = 0; i < n; i++) {
      const r = i * d;
      const zi = i * K;
      const target = seq[from + i + 1];
      const e = target * d;
      let zt = 0;
      for (let k = 0; k < d; k++) zt += out[r + k] * table[e + k];
      zt -= logQ[target];
      let max = zt;
      for (let j = 0; j < K; j++) {
        const v = this.items[j] === target ? -Infinity : z[zi + j] - this.logQ[j];
        z[zi + j] = v;
        if (v > max) max = v;
      }
      const et = Math.exp(zt - max);
      let sum = et;
      for (let j = 0; j < K; j++) sum += z[zi + j] = Math.exp(z[zi + j] - max);
      loss -= Math.log(et / sum);
      const scale = weight / sum;
      for (let j = 0; j < K; j++) z[zi + j] *= scale;
      const gt = (this.targetGrad[i] = (et / sum - 1) * weight);
      const tg = itemGrads.offset(target);
      for (let k = 0; k < d; k++) itemGrads.grad[tg + k] += gt * out[r + k];
    }
    matmul(z, this.embeddings, dOut, n, K, d);
    accumulateWeightGrad(z, out, this.grad, n, K, d);
    for (let i = 0; i < n; i++) {
      const e = seq[from + i + 1] * d;
      const r = i * d;
      const gt = this.targetGrad[i];
      for (let k = 0; k < d; k++) dOut[r + k] += gt * table[e + k];
    }
    return loss;
  }
}

function resolveNumTypes(input: SequenceTrainingInput): number {
  if (input.numTypes !== undefined) return input.numTypes;
  let max = 0;
  for (const t of input.types ?? []) for (const v of t) if (v > max) max = v;
  return max + 1;
}

/** SASRec-style next-item training (sampled softmax, Adam; lazy Adam on the item table). Deterministic for a seed. */
export async function trainSequenceModel(input: SequenceTrainingInput, options: SequenceTrainingOptions = {}): Promise<SequenceModel> {
  const given = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined));
  const o: typeof SEQUENCE_DEFAULTS & SequenceTrainingOptions = { ...SEQUENCE_DEFAULTS, ...given };
  const numTypes = resolveNumTypes(input);
  const shape: SequenceShape = { numItems: input.numItems, dim: o.dim, maxLength: o.maxLength, numTypes, numBlocks: o.numBlocks };
  for (const [name, v] of Object.entries({ numItems: shape.numItems, dim: o.dim, maxLength: o.maxLength, numTypes, negatives: o.negatives, batchSize: o.batchSize })) {
    if (!Number.isInteger(v) || v <= 0) throw new RangeError(`${name} must be a positive integer, got ${v}`);
  }
  if (o.epochs !== undefined && (!Number.isInteger(o.epochs) || o.epochs < 0)) throw new RangeError(`epochs must be a non-negative integer, got ${o.epochs}`);
  if (!Number.isInteger(o.numBlocks) || o.numBlocks < 0) throw new RangeError(`numBlocks must be a non-negative integer, got ${o.numBlocks}`);
  if (!(o.dropout >= 0 && o.dropout < 1)) throw new RangeError(`dropout must be in [0, 1), got ${o.dropout}`);
  checkSequences(input.sequences, input.types, shape.numItems, numTypes);

  const { dim } = shape;
  const rng = createRng(o.seed);
  const { items, dense } = initWeights(shape, o.seed + 1);
  const weights = denseViews(dense, shape);
  const gradBuf = new Float64Array(denseSize(shape));
  const grads: DenseWeights<Float64Array> = denseViews(gradBuf, shape);
  const denseM = new Float64Array(dense.length);
  const denseV = new Float64Array(dense.length);
  const itemM = new Float32Array(items.length);
  const itemV = new Float32Array(items.length);
  const itemGrads = new SparseRows(shape.numItems + 1, dim);

  const sampler = negativeSampler(o.negativeSampling, input.sequences, shape.numItems, rng);
  const K = o.negatives;
  const softmax = new SampledSoftmax(K, dim, shape.maxLength);
  const pass = new SequencePass(shape, o.dropout);
  const dOut = new Float64Array(shape.maxLength * dim);

  const windows = buildWindows(input.sequences, shape.maxLength);
  const order = Int32Array.from({ length: windows.user.length }, (_, i) => i);
  let step = 0;

  const adamStep = () => {
    step++;
    const lr = (o.learningRate * Math.sqrt(1 - BETA2 ** step)) / (1 - BETA1 ** step);
    for (let i = 0; i < dense.length; i++) {
      const g = gradBuf[i];
      const m = (denseM[i] = BETA1 * denseM[i] + (1 - BETA1) * g);
      const v = (denseV[i] = BETA2 * denseV[i] + (1 - BETA2) * g * g);
      dense[i] -= (lr * m) / (Math.sqrt(v) + ADAM_EPS);
    }
    gradBuf.fill(0);
    for (let j = 0; j < K; j++) {
      const off = itemGrads.offset(softmax.items[j]);
      for (let k = 0; k < dim; k++) itemGrads.grad[off + k] += softmax.grad[j * dim + k];
    }
    softmax.grad.fill(0);
    const rows = itemGrads.rows;
    for (let s = 0; s < rows.length; s++) {
      const base = rows[s] * dim;
      const off = s * dim;
      for (let k = 0; k < dim; k++) {
        const g = itemGrads.grad[off + k] + o.l2 * items[base + k];
        const m = (itemM[base + k] = BETA1 * itemM[base + k] + (1 - BETA1) * g);
        const v = (itemV[base + k] = BETA2 * itemV[base + k] + (1 - BETA2) * g * g);
        items[base + k] -= (lr * m) / (Math.sqrt(v) + ADAM_EPS);
      }
    }
    itemGrads.clear();
  };

  let totalPositions = 0;
  for (let w = 0; w < windows.user.length; w++) totalPositions += windows.to[w] - windows.from[w];
  const epochs = o.epochs ?? defaultEpochs(totalPositions);
  for (let epoch = 0; epoch < epochs; epoch++) {
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(rng() * (i + 1));
      [order[i], order[j]] = [order[j], order[i]];
    }
    let lossSum = 0;
    for (let b = 0; b < order.length; b += o.batchSize) {
      const batch = order.subarray(b, Math.min(order.length, b + o.batchSize));
      let batchPositions = 0;
      for (const w of batch) batchPositions += windows.to[w] - windows.from[w];
      softmax.draw(items, sampler.draw, sampler.logQ);
      for (const w of batch) {
        const seq = input.sequences[windows.user[w]];
        const from = windows.from[w];
        pass.forward(weights, items, seq, input.types?.[windows.user[w]], from, windows.to[w], rng);
        lossSum += softmax.windowLoss(pass, items, seq, from, sampler.logQ, 1 / batchPositions, dOut, itemGrads);
        pass.backward(weights, dOut, grads);
        for (let i = 0; i < pass.n; i++) {
          const off = itemGrads.offset(seq[from + i]);
          for (let k = 0; k < dim; k++) itemGrads.grad[off + k] += pass.inputGrad[i * dim + k];
        }
        if (o.yielder) await o.yielder.pauseIfDue();
      }
      adamStep();
    }
    const snapshot = () => ({ ...shape, itemEmbeddings: items.slice(), dense: Float32Array.from(dense) });
    if ((await o.onEpoch?.(epoch, totalPositions > 0 ? lossSum / totalPositions : 0, snapshot)) === 'stop') break;
  }

  return { ...shape, itemEmbeddings: items, dense: Float32Array.from(dense) };
}
