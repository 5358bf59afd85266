/**
 * Multi-task MLP ranker: ReLU hidden layers, one sigmoid output per head.
 * Pure TypeScript on typed arrays; exported to ONNX by onnx-export.ts.
 */

export interface MlpLayer {
  /** Row-major [inDim][outDim]. */
  weights: Float32Array;
  bias: Float32Array;
  inDim: number;
  outDim: number;
}

export interface MlpWeights {
  inputDim: number;
  hidden: number[];
  heads: string[];
  layers: MlpLayer[];
}

export interface Standardizer {
  mean: Float32Array;
  std: Float32Array;
}

export interface TrainData {
  /** rows * inputDim raw (or pre-standardised) features. */
  x: Float32Array;
  /** rows * heads, 0/1 labels. */
  y: Float32Array;
  /** rows * heads, 1 = label present, 0 = ignore; omitted means all present. */
  mask?: Float32Array;
  rows: number;
}

export interface TrainOptions {
  epochs: number;
  batchSize: number;
  learningRate: number;
  /** Coupled L2 penalty 0.5 * l2 * ||W||^2 on weights (not biases). */
  l2?: number;
  seed: number;
  /** Applied to each row on the fly, so callers can pass raw features. */
  norm?: Standardizer;
  /** Called after each epoch; returning 'stop' ends training early (e.g. when validation loss stops improving). */
  onEpoch?: (epoch: number, loss: number) => EpochVerdict | Promise<EpochVerdict>;
}

/** What `onEpoch` answers: 'stop' ends training. `trainMlpAsync` awaits a promise; `trainMlp` needs a plain value. */
export type EpochVerdict = void | 'stop';

/** What the training generator hands its driver: nothing after a minibatch, the epoch's loss after an epoch. */
type Step = { epoch: number; loss: number } | undefined;

const BETA1 = 0.9;
const BETA2 = 0.999;
const ADAM_EPS = 1e-8;
const MIN_STD = 1e-6;
const PREDICT_CHUNK = 1024;

/** mulberry32: tiny, fast, good enough for init and shuffling. */
export function createRng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function gaussian(rng: () => number): number {
  const u1 = rng() || Number.MIN_VALUE;
  return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * rng());
}

function assertPositiveInt(name: string, v: number): void {
  if (!Number.isInteger(v) || v <= 0) throw new RangeError(`${name} must be a positive integer, got ${v}`);
}

export function initMlp(inputDim: number, hidden: number[], heads: string[], seed: number): MlpWeights {
  assertPositiveInt('inputDim', inputDim);
  hidden.forEach((h, i) => assertPositiveInt(`hidden[${i}]`, h));
  if (heads.length === 0) throw new RangeError('at least one head is required');
  if (new Set(heads).size !== heads.length) throw new RangeError('head names must be unique');

  const rng = createRng(seed);
  const dims = [inputDim, ...hidden, heads.length];
  const layers: MlpLayer[] = [];
  for (let l = 0; l + 1 < dims.length; l++) {
    const inDim = dims[l];
    const outDim = dims[l + 1];
    const isOutput = l + 2 === dims.length;
    // He for ReLU layers, Xavier (Glorot normal) for the sigmoid output layer.
    const scale = isOutput ? Math.sqrt(2 / (inDim + outDim)) : Math.sqrt(2 / inDim);
    const weights = new Float32Array(inDim * outDim);
    for (let i = 0; i < weights.length; i++) weights[i] = gaussian(rng) * scale;
    layers.push({ weights, bias: new Float32Array(outDim), inDim, outDim });
  }
  return { inputDim, hidden: [...hidden], heads: [...heads], layers };
}

export function fitStandardizer(x: Float32Array, rows: number, dim: number): Standardizer {
  assertPositiveInt('rows', rows);
  assertPositiveInt('dim', dim);
  if (x.length !== rows * dim) throw new RangeError(`x has ${x.length} values, expected ${rows * dim}`);
  const sum = new Float64Array(dim);
  for (let r = 0; r < rows; r++) {
    const off = r * dim;
    for (let k = 0; k < dim; k++) sum[k] += x[off + k];
  }
  const mean = new Float64Array(dim);
  for (let k = 0; k < dim; k++) mean[k] = sum[k] / rows;
  // Two-pass variance: one-pass sum of squares loses precision on large offsets.
  const sq = new Float64Array(dim);
  for (let r = 0; r < rows; r++) {
    const off = r * dim;
    for (let k = 0; k < dim; k++) {
      const d = x[off + k] - mean[k];
      sq[k] += d * d;
    }
  }
  const std = new Float32Array(dim);
  for (let k = 0; k < dim; k++) {
    const s = Math.sqrt(sq[k] / rows);
    // Constant features would divide by zero in the exported graph.
    std[k] = Number.isFinite(s) && s >= MIN_STD ? s : 1;
  }
  return { mean: Float32Array.from(mean), std };
}

function checkNorm(norm: Standardizer | undefined, dim: number): void {
  if (!norm) return;
  if (norm.mean.length !== dim || norm.std.length !== dim) {
    throw new RangeError(`standardizer has ${norm.mean.length}/${norm.std.length} values, expected ${dim}`);
  }
}

/** Copies row `src` of x into row `dst` of out, standardising if norm is given. */
function copyRow(x: Float32Array, src: number, out: Float64Array, dst: number, dim: number, norm?: Standardizer): void {
  const s = src * dim;
  const d = dst * dim;
  if (norm) {
    const mean = norm.mean;
    const std = norm.std;
    for (let k = 0; k < dim; k++) out[d + k] = (x[s + k] - mean[k]) / std[k];
  } else {
    for (let k = 0; k < dim; k++) out[d + k] = x[s + k];
  }
}

/**
 * A layer as the trainer and `predict` compute with it: float64, because V8 does all
 * arithmetic in doubles and every float32 load or store is a conversion. `MlpWeights`
 * stays float32, as exported.
 */
interface WorkLayer {
  weights: Float64Array;
  bias: Float64Array;
  inDim: number;
  outDim: number;
}

function workLayers(w: MlpWeights): WorkLayer[] {
  return w.layers.map((l) => ({ weights: Float64Array.from(l.weights), bias: Float64Array.from(l.bias), inDim: l.inDim, outDim: l.outDim }));
}

/**
 * acts[0] holds the batch input; acts[l + 1] receives layer l's activations.
 * The last layer's pre-sigmoid values go to `logits` (needed for a stable loss).
 */
function forward(layers: WorkLayer[], acts: Float64Array[], logits: Float64Array, rows: number): void {
  const last = layers.length - 1;
  for (let l = 0; l <= last; l++) {
    const out = l === last ? logits : acts[l + 1];
    linear(layers[l], acts[l], out, rows);
    const n = rows * layers[l].outDim;
    if (l === last) {
      const probs = acts[l + 1];
      for (let k = 0; k < n; k++) probs[k] = 1 / (1 + Math.exp(-out[k]));
    } else {
      for (let k = 0; k < n; k++) if (out[k] < 0) out[k] = 0;
    }
  }
}

// The kernels below take rows two at a time: each weight or gradient entry is loaded
// (and stored) once for both rows. With the float64 buffers, one epoch over 100k rows
// (23 -> 64 -> 32 -> 4) went from ~1.1 s to ~0.8 s here (bench/RESULTS.md, model training).

/** out = input W + b for `rows` rows. Zero inputs (ReLU outputs) are skipped. */
function linear({ weights, bias, inDim, outDim }: WorkLayer, input: Float64Array, out: Float64Array, rows: number): void {
  let r = 0;
  for (; r + 1 < rows; r += 2) {
    const in0 = r * inDim;
    const in1 = in0 + inDim;
    const o0 = r * outDim;
    const o1 = o0 + outDim;
    for (let j = 0; j < outDim; j++) out[o0 + j] = out[o1 + j] = bias[j];
    for (let i = 0; i < inDim; i++) {
      const a0 = input[in0 + i];
      const a1 = input[in1 + i];
      if (a0 === 0 && a1 === 0) continue;
      const wOff = i * outDim;
      for (let j = 0; j < outDim; j++) {
        const wij = weights[wOff + j];
        out[o0 + j] += a0 * wij;
        out[o1 + j] += a1 * wij;
      }
    }
  }
  for (; r < rows; r++) {
    const in0 = r * inDim;
    const o0 = r * outDim;
    for (let j = 0; j < outDim; j++) out[o0 + j] = bias[j];
    for (let i = 0; i < inDim; i++) {
      const a0 = input[in0 + i];
      if (a0 === 0) continue;
      const wOff = i * outDim;
      for (let j = 0; j < outDim; j++) out[o0 + j] += a0 * weights[wOff + j];
    }
  }
}

/** gw = input^T delta and gb = column sums of delta over `rows` rows. */
function accumulateGradients(
  { inDim, outDim }: WorkLayer,
  input: Float64Array,
  delta: Float64Array,
  gw: Float64Array,
  gb: Float64Array,
  rows: number,
): void {
  gw.fill(0);
  gb.fill(0);
  for (let r = 0; r < rows; r++) {
    const d0 = r * outDim;
    for (let j = 0; j < outDim; j++) gb[j] += delta[d0 + j];
  }
  let r = 0;
  for (; r + 1 < rows; r += 2) {
    const in0 = r * inDim;
    const in1 = in0 + inDim;
    const d0 = r * outDim;
    const d1 = d0 + outDim;
    for (let i = 0; i < inDim; i++) {
      const a0 = input[in0 + i];
      const a1 = input[in1 + i];
      if (a0 === 0 && a1 === 0) continue;
      const wOff = i * outDim;
      for (let j = 0; j < outDim; j++) gw[wOff + j] += a0 * delta[d0 + j] + a1 * delta[d1 + j];
    }
  }
  for (; r < rows; r++) {
    const in0 = r * inDim;
    const d0 = r * outDim;
    for (let i = 0; i < inDim; i++) {
      const a0 = input[in0 + i];
      if (a0 === 0) continue;
      const wOff = i * outDim;
      for (let j = 0; j < outDim; j++) gw[wOff + j] += a0 * delta[d0 + j];
    }
  }
}

/** prev = (delta W^T) masked by ReLU: 0 where the layer's input (the previous ReLU output) is <= 0. */
function backpropagate({ weights, inDim, outDim }: WorkLayer, input: Float64Array, delta: Float64Array, prev: Float64Array, rows: number): void {
  let r = 0;
  for (; r + 1 < rows; r += 2) {
    const in0 = r * inDim;
    const in1 = in0 + inDim;
    const d0 = r * outDim;
    const d1 = d0 + outDim;
    for (let i = 0; i < inDim; i++) {
      const on0 = input[in0 + i] > 0;
      const on1 = input[in1 + i] > 0;
      let s0 = 0;
      let s1 = 0;
      if (on0 || on1) {
        const wOff = i * outDim;
        for (let j = 0; j < outDim; j++) {
          const wij = weights[wOff + j];
          s0 += wij * delta[d0 + j];
          s1 += wij * delta[d1 + j];
        }
      }
      prev[in0 + i] = on0 ? s0 : 0;
      prev[in1 + i] = on1 ? s1 : 0;
    }
  }
  for (; r < rows; r++) {
    const in0 = r * inDim;
    const d0 = r * outDim;
    for (let i = 0; i < inDim; i++) {
      if (!(input[in0 + i] > 0)) {
        prev[in0 + i] = 0;
        continue;
      }
      const wOff = i * outDim;
      let s = 0;
      for (let j = 0; j < outDim; j++) s += weights[wOff + j] * delta[d0 + j];
      prev[in0 + i] = s;
    }
  }
}

function allocActs(w: MlpWeights, rows: number): Float64Array[] {
  return [new Float64Array(rows * w.inputDim), ...w.layers.map((l) => new Float64Array(rows * l.outDim))];
}

/** Scores in (0, 1), rows * heads. Pass `norm` when x holds raw features. */
export function predict(w: MlpWeights, x: Float32Array, rows: number, norm?: Standardizer): Float32Array {
  const steps = predictSteps(w, x, rows, norm);
  for (;;) {
    const next = steps.next();
    if (next.done) return next.value;
  }
}

/** The same scores, handing control back to the event loop whenever `sliceMs` of work has run. */
export async function predictAsync(w: MlpWeights, x: Float32Array, rows: number, norm?: Standardizer, sliceMs = 20): Promise<Float32Array> {
  const steps = predictSteps(w, x, rows, norm);
  let sliceStart = Date.now();
  for (;;) {
    const next = steps.next();
    if (next.done) return next.value;
    if (Date.now() - sliceStart >= sliceMs) {
      await new Promise<void>((resolve) => setImmediate(resolve));
      sliceStart = Date.now();
    }
  }
}

/** Scoring as a generator that pauses after every chunk of rows. */
function* predictSteps(w: MlpWeights, x: Float32Array, rows: number, norm?: Standardizer): Generator<void, Float32Array> {
  const dim = w.inputDim;
  const heads = w.heads.length;
  if (!Number.isInteger(rows) || rows < 0) throw new RangeError(`rows must be a non-negative integer, got ${rows}`);
  if (x.length !== rows * dim) throw new RangeError(`x has ${x.length} values, expected ${rows * dim}`);
  checkNorm(norm, dim);
  const out = new Float32Array(rows * heads);
  const chunk = Math.min(PREDICT_CHUNK, Math.max(rows, 1));
  const layers = workLayers(w);
  const acts = allocActs(w, chunk);
  const logits = new Float64Array(chunk * heads);
  const probs = acts[acts.length - 1];
  for (let start = 0; start < rows; start += chunk) {
    const n = Math.min(chunk, rows - start);
    for (let b = 0; b < n; b++) copyRow(x, start + b, acts[0], b, dim, norm);
    forward(layers, acts, logits, n);
    out.set(probs.subarray(0, n * heads), start * heads);
    yield;
  }
  return out;
}

/**
 * Minibatch Adam on masked binary cross-entropy summed over heads.
 * Mutates `w` in place; returns the mean per-row data loss of each epoch
 * (accumulated while training, L2 term excluded).
 */
export function trainMlp(w: MlpWeights, data: TrainData, opts: TrainOptions): number[] {
  const steps = trainMlpSteps(w, data, opts);
  let verdict: EpochVerdict = undefined;
  for (;;) {
    const next = steps.next(verdict);
    if (next.done) return next.value;
    const answer = next.value ? opts.onEpoch?.(next.value.epoch, next.value.loss) : undefined;
    if (answer instanceof Promise) throw new TypeError('trainMlp needs a synchronous onEpoch; use trainMlpAsync');
    verdict = answer;
  }
}

/**
 * The same training, handing control back to the event loop whenever `sliceMs` of
 * work has run, so a process that also serves queues or requests stays responsive.
 * `onEpoch` may be async (e.g. scoring the validation rows in slices too).
 */
export async function trainMlpAsync(w: MlpWeights, data: TrainData, opts: TrainOptions, sliceMs = 20): Promise<number[]> {
  const steps = trainMlpSteps(w, data, opts);
  let sliceStart = Date.now();
  let verdict: EpochVerdict = undefined;
  for (;;) {
    const next = steps.next(verdict);
    if (next.done) return next.value;
    verdict = next.value ? await opts.onEpoch?.(next.value.epoch, next.value.loss) : undefined;
    if (Date.now() - sliceStart >= sliceMs) {
      await new Promise<void>((resolve) => setImmediate(resolve));
      sliceStart = Date.now();
    }
  }
}

/** The training loop as a generator that pauses after every minibatch and hands over each epoch's loss. */
function* trainMlpSteps(w: MlpWeights, data: TrainData, opts: TrainOptions): Generator<Step, number[], EpochVerdict> {
  const { rows, x, y, mask } = data;
  const dim = w.inputDim;
  const heads = w.heads.length;
  assertPositiveInt('rows', rows);
  assertPositiveInt('batchSize', opts.batchSize);
  if (!Number.isInteger(opts.epochs) || opts.epochs < 0) throw new RangeError(`epochs must be a non-negative integer`);
  if (!(opts.learningRate > 0)) throw new RangeError('learningRate must be > 0');
  if (x.length !== rows * dim) throw new RangeError(`x has ${x.length} values, expected ${rows * dim}`);
  if (y.length !== rows * heads) throw new RangeError(`y has ${y.length} values, expected ${rows * heads}`);
  if (mask && mask.length !== rows * heads) throw new RangeError(`mask has ${mask.length} values, expected ${rows * heads}`);
  checkNorm(opts.norm, dim);

  const l2 = opts.l2 ?? 0;
  const lr = opts.learningRate;
  // Trained in float64; every update is mirrored into w's float32 arrays.
  const layers = workLayers(w);
  const L = layers.length;
  const bs = Math.min(opts.batchSize, rows);
  const rng = createRng(opts.seed);

  const acts = allocActs(w, bs);
  const logits = new Float64Array(bs * heads);
  const by = new Float64Array(bs * heads);
  const bm = new Float64Array(bs * heads);
  // deltas[l] = dLoss/d(pre-activation of layer l), batch-sized.
  const deltas = layers.map((l) => new Float64Array(bs * l.outDim));
  const gW = layers.map((l) => new Float64Array(l.weights.length));
  const gB = layers.map((l) => new Float64Array(l.bias.length));
  const mW = layers.map((l) => new Float64Array(l.weights.length));
  const vW = layers.map((l) => new Float64Array(l.weights.length));
  const mB = layers.map((l) => new Float64Array(l.bias.length));
  const vB = layers.map((l) => new Float64Array(l.bias.length));
  const perm = new Uint32Array(rows);
  for (let i = 0; i < rows; i++) perm[i] = i;

  const losses: number[] = [];
  let step = 0;
  for (let epoch = 0; epoch < opts.epochs; epoch++) {
    for (let i = rows - 1; i > 0; i--) {
      const j = Math.floor(rng() * (i + 1));
      const t = perm[i];
      perm[i] = perm[j];
      perm[j] = t;
    }
    let epochLoss = 0;
    for (let start = 0; start < rows; start += bs) {
      const n = Math.min(bs, rows - start);
      for (let b = 0; b < n; b++) {
        const src = perm[start + b];
        copyRow(x, src, acts[0], b, dim, opts.norm);
        for (let h = 0; h < heads; h++) {
          by[b * heads + h] = y[src * heads + h];
          bm[b * heads + h] = mask ? mask[src * heads + h] : 1;
        }
      }
      forward(layers, acts, logits, n);

      const probs = acts[L];
      const dOut = deltas[L - 1];
      const inv = 1 / n;
      for (let k = 0; k < n * heads; k++) {
        const m = bm[k];
        if (m === 0) {
          dOut[k] = 0;
          continue;
        }
        const z = logits[k];
        const t = by[k];
        // log(1 + e^z) - t*z, written to avoid overflow for large |z|.
        epochLoss += m * (Math.max(z, 0) - z * t + Math.log1p(Math.exp(-Math.abs(z))));
        dOut[k] = m * (probs[k] - t) * inv;
      }

      for (let l = L - 1; l >= 0; l--) {
        const layer = layers[l];
        accumulateGradients(layer, acts[l], deltas[l], gW[l], gB[l], n);
        // acts[l] is the previous layer's ReLU output, so where it is 0 the gradient is 0.
        if (l > 0) backpropagate(layer, acts[l], deltas[l], deltas[l - 1], n);
      }

      step++;
      const c1 = 1 / (1 - Math.pow(BETA1, step));
      const c2 = 1 / (1 - Math.pow(BETA2, step));
      for (let l = 0; l < L; l++) {
        adam(layers[l].weights, w.layers[l].weights, gW[l], mW[l], vW[l], lr, c1, c2, l2);
        adam(layers[l].bias, w.layers[l].bias, gB[l], mB[l], vB[l], lr, c1, c2, 0);
      }
      yield;
    }
    const loss = epochLoss / rows;
    losses.push(loss);
    if ((yield { epoch, loss }) === 'stop') break;
  }
  return losses;
}

/** One Adam step on the float64 parameters `p`, mirrored into `mirror` (the float32 weights). */
function adam(
  p: Float64Array,
  mirror: Float32Array,
  g: Float64Array,
  m: Float64Array,
  v: Float64Array,
  lr: number,
  c1: number,
  c2: number,
  l2: number,
): void {
  for (let k = 0; k < p.length; k++) {
    const grad = g[k] + l2 * p[k];
    const mk = BETA1 * m[k] + (1 - BETA1) * grad;
    const vk = BETA2 * v[k] + (1 - BETA2) * grad * grad;
    m[k] = mk;
    v[k] = vk;
    p[k] -= (lr * mk * c1) / (Math.sqrt(vk * c2) + ADAM_EPS);
    mirror[k] = p[k];
  }
}
