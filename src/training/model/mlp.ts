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
  onEpoch?: (epoch: number, loss: number) => void | 'stop';
}

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
function copyRow(x: Float32Array, src: number, out: Float32Array, dst: number, dim: number, norm?: Standardizer): void {
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
 * acts[0] holds the batch input; acts[l + 1] receives layer l's activations.
 * The last layer's pre-sigmoid values go to `logits` (needed for a stable loss).
 */
function forward(w: MlpWeights, acts: Float32Array[], logits: Float32Array, rows: number): void {
  const last = w.layers.length - 1;
  for (let l = 0; l <= last; l++) {
    const { weights, bias, inDim, outDim } = w.layers[l];
    const input = acts[l];
    const out = l === last ? logits : acts[l + 1];
    for (let r = 0; r < rows; r++) {
      const inOff = r * inDim;
      const outOff = r * outDim;
      for (let j = 0; j < outDim; j++) out[outOff + j] = bias[j];
      for (let i = 0; i < inDim; i++) {
        const a = input[inOff + i];
        if (a === 0) continue;
        const wOff = i * outDim;
        for (let j = 0; j < outDim; j++) out[outOff + j] += a * weights[wOff + j];
      }
    }
    const n = rows * outDim;
    if (l === last) {
      const probs = acts[l + 1];
      for (let k = 0; k < n; k++) probs[k] = 1 / (1 + Math.exp(-out[k]));
    } else {
      for (let k = 0; k < n; k++) if (out[k] < 0) out[k] = 0;
    }
  }
}

function allocActs(w: MlpWeights, rows: number): Float32Array[] {
  return [new Float32Array(rows * w.inputDim), ...w.layers.map((l) => new Float32Array(rows * l.outDim))];
}

/** Scores in (0, 1), rows * heads. Pass `norm` when x holds raw features. */
export function predict(w: MlpWeights, x: Float32Array, rows: number, norm?: Standardizer): Float32Array {
  const dim = w.inputDim;
  const heads = w.heads.length;
  if (!Number.isInteger(rows) || rows < 0) throw new RangeError(`rows must be a non-negative integer, got ${rows}`);
  if (x.length !== rows * dim) throw new RangeError(`x has ${x.length} values, expected ${rows * dim}`);
  checkNorm(norm, dim);
  const out = new Float32Array(rows * heads);
  const chunk = Math.min(PREDICT_CHUNK, Math.max(rows, 1));
  const acts = allocActs(w, chunk);
  const logits = new Float32Array(chunk * heads);
  const probs = acts[acts.length - 1];
  for (let start = 0; start < rows; start += chunk) {
    const n = Math.min(chunk, rows - start);
    for (let b = 0; b < n; b++) copyRow(x, start + b, acts[0], b, dim, norm);
    forward(w, acts, logits, n);
    out.set(probs.subarray(0, n * heads), start * heads);
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
  for (;;) {
    const next = steps.next();
    if (next.done) return next.value;
  }
}

/**
 * The same training, handing control back to the event loop whenever `sliceMs` of
 * work has run, so a process that also serves queues or requests stays responsive.
 */
export async function trainMlpAsync(w: MlpWeights, data: TrainData, opts: TrainOptions, sliceMs = 20): Promise<number[]> {
  const steps = trainMlpSteps(w, data, opts);
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

/** The training loop as a generator that pauses after every minibatch. */
function* trainMlpSteps(w: MlpWeights, data: TrainData, opts: TrainOptions): Generator<void, number[]> {
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
  const layers = w.layers;
  const L = layers.length;
  const bs = Math.min(opts.batchSize, rows);
  const rng = createRng(opts.seed);

  const acts = allocActs(w, bs);
  const logits = new Float32Array(bs * heads);
  const by = new Float32Array(bs * heads);
  const bm = new Float32Array(bs * heads);
  // deltas[l] = dLoss/d(pre-activation of layer l), batch-sized.
  const deltas = layers.map((l) => new Float32Array(bs * l.outDim));
  const gW = layers.map((l) => new Float32Array(l.weights.length));
  const gB = layers.map((l) => new Float32Array(l.bias.length));
  const mW = layers.map((l) => new Float32Array(l.weights.length));
  const vW = layers.map((l) => new Float32Array(l.weights.length));
  const mB = layers.map((l) => new Float32Array(l.bias.length));
  const vB = layers.map((l) => new Float32Array(l.bias.length));
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
      forward(w, acts, logits, n);

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
        const { weights, inDim, outDim } = layers[l];
        const input = acts[l];
        const delta = deltas[l];
        const gw = gW[l];
        const gb = gB[l];
        gw.fill(0);
        gb.fill(0);
        for (let r = 0; r < n; r++) {
          const inOff = r * inDim;
          const dOff = r * outDim;
          for (let j = 0; j < outDim; j++) gb[j] += delta[dOff + j];
          for (let i = 0; i < inDim; i++) {
            const a = input[inOff + i];
            if (a === 0) continue;
            const wOff = i * outDim;
            for (let j = 0; j < outDim; j++) gw[wOff + j] += a * delta[dOff + j];
          }
        }
        if (l > 0) {
          const prev = deltas[l - 1];
          for (let r = 0; r < n; r++) {
            const inOff = r * inDim;
            const dOff = r * outDim;
            for (let i = 0; i < inDim; i++) {
              // input is the previous layer's ReLU output, so a <= 0 means zero gradient.
              if (input[inOff + i] <= 0) {
                prev[inOff + i] = 0;
                continue;
              }
              const wOff = i * outDim;
              let s = 0;
              for (let j = 0; j < outDim; j++) s += weights[wOff + j] * delta[dOff + j];
              prev[inOff + i] = s;
            }
          }
        }
      }

      step++;
      const c1 = 1 / (1 - Math.pow(BETA1, step));
      const c2 = 1 / (1 - Math.pow(BETA2, step));
      for (let l = 0; l < L; l++) {
        adam(layers[l].weights, gW[l], mW[l], vW[l], lr, c1, c2, l2);
        adam(layers[l].bias, gB[l], mB[l], vB[l], lr, c1, c2, 0);
      }
      yield;
    }
    const loss = epochLoss / rows;
    losses.push(loss);
    if (opts.onEpoch?.(epoch, loss) === 'stop') break;
  }
  return losses;
}

function adam(p: Float32Array, g: Float32Array, m: Float32Array, v: Float32Array, lr: number, c1: number, c2: number, l2: number): void {
  for (let k = 0; k < p.length; k++) {
    const grad = g[k] + l2 * p[k];
    const mk = BETA1 * m[k] + (1 - BETA1) * grad;
    const vk = BETA2 * v[k] + (1 - BETA2) * grad * grad;
    m[k] = mk;
    v[k] = vk;
    p[k] -= (lr * mk * c1) / (Math.sqrt(vk * c2) + ADAM_EPS);
  }
}
