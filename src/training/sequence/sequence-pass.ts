import { BlockWeights, DenseWeights, LAYER_NORM_EPS, SequenceShape } from './sequence-weights';

type Vec = Float64Array;

// The three kernels take rows two at a time, so each weight is loaded once for both:
// 1.5x faster than row by row for [50][32] x [32][32] here (the plain loop is the odd-row tail).

/** out = a W (+ bias): a is [n][inDim], W [inDim][outDim]. */
export function matmul(a: Vec, w: Vec, out: Vec, n: number, inDim: number, outDim: number, bias?: Vec): void {
  let i = 0;
  for (; i + 1 < n; i += 2) {
    const o0 = i * outDim;
    const o1 = o0 + outDim;
    for (let j = 0; j < outDim; j++) out[o0 + j] = out[o1 + j] = bias ? bias[j] : 0;
    const r0 = i * inDim;
    const r1 = r0 + inDim;
    for (let k = 0; k < inDim; k++) {
      const x0 = a[r0 + k];
      const x1 = a[r1 + k];
      const wk = k * outDim;
      for (let j = 0; j < outDim; j++) {
        const wv = w[wk + j];
        out[o0 + j] += x0 * wv;
        out[o1 + j] += x1 * wv;
      }
    }
  }
  for (; i < n; i++) {
    const o = i * outDim;
    for (let j = 0; j < outDim; j++) out[o + j] = bias ? bias[j] : 0;
    const r = i * inDim;
    for (let k = 0; k < inDim; k++) {
      const x = a[r + k];
      const wk = k * outDim;
      for (let j = 0; j < outDim; j++) out[o + j] += x * w[wk + j];
    }
  }
}

/** dW += a^T dy. */
export function accumulateWeightGrad(a: Vec, dy: Vec, dw: Vec, n: number, inDim: number, outDim: number): void {
  let i = 0;
  for (; i + 1 < n; i += 2) {
    const r0 = i * inDim;
    const r1 = r0 + inDim;
    const o0 = i * outDim;
    const o1 = o0 + outDim;
    for (let k = 0; k < inDim; k++) {
      const x0 = a[r0 + k];
      const x1 = a[r1 + k];
      const wk = k * outDim;
      for (let j = 0; j < outDim; j++) dw[wk + j] += x0 * dy[o0 + j] + x1 * dy[o1 + j];
    }
  }
  for (; i < n; i++) {
    const r = i * inDim;
    const o = i * outDim;
    for (let k = 0; k < inDim; k++) {
      const x = a[r + k];
      const wk = k * outDim;
      for (let j = 0; j < outDim; j++) dw[wk + j] += x * dy[o + j];
    }
  }
}

/** da (+)= dy W^T. */
export function backThroughWeights(dy: Vec, w: Vec, da: Vec, n: number, inDim: number, outDim: number, accumulate: boolean): void {
  let i = 0;
  for (; i + 1 < n; i += 2) {
    const r0 = i * inDim;
    const r1 = r0 + inDim;
    const o0 = i * outDim;
    const o1 = o0 + outDim;
    for (let k = 0; k < inDim; k++) {
      const wk = k * outDim;
      let s0 = 0;
      let s1 = 0;
      for (let j = 0; j < outDim; j++) {
        const wv = w[wk + j];
        s0 += dy[o0 + j] * wv;
        s1 += dy[o1 + j] * wv;
      }
      da[r0 + k] = accumulate ? da[r0 + k] + s0 : s0;
      da[r1 + k] = accumulate ? da[r1 + k] + s1 : s1;
    }
  }
  for (; i < n; i++) {
    const r = i * inDim;
    const o = i * outDim;
    for (let k = 0; k < inDim; k++) {
      const wk = k * outDim;
      let s = 0;
      for (let j = 0; j < outDim; j++) s += dy[o + j] * w[wk + j];
      da[r + k] = accumulate ? da[r + k] + s : s;
    }
  }
}

function columnSums(dy: Vec, into: Vec, n: number, dim: number): void {
  for (let i = 0; i < n; i++) for (let j = 0; j < dim; j++) into[j] += dy[i * dim + j];
}

function layerNorm(x: Vec, xhat: Vec, rstd: Vec, out: Vec, gain: Vec, bias: Vec, n: number, dim: number): void {
  for (let i = 0; i < n; i++) {
    const r = i * dim;
    let mean = 0;
    for (let k = 0; k < dim; k++) mean += x[r + k];
    mean /= dim;
    let v = 0;
    for (let k = 0; k < dim; k++) v += (x[r + k] - mean) ** 2;
    const s = 1 / Math.sqrt(v / dim + LAYER_NORM_EPS);
    rstd[i] = s;
    for (let k = 0; k < dim; k++) {
      const h = (x[r + k] - mean) * s;
      xhat[r + k] = h;
      out[r + k] = gain[k] * h + bias[k];
    }
  }
}

/** dx (+)= d layerNorm / dx applied to dy; gain and bias gradients accumulate. */
function layerNormBack(dy: Vec, xhat: Vec, rstd: Vec, gain: Vec, dGain: Vec, dBias: Vec, dx: Vec, n: number, dim: number, accumulate: boolean): void {
  for (let i = 0; i < n; i++) {
    const r = i * dim;
    let m1 = 0;
    let m2 = 0;
    for (let k = 0; k < dim; k++) {
      const g = dy[r + k];
      dGain[k] += g * xhat[r + k];
      dBias[k] += g;
      const dh = g * gain[k];
      m1 += dh;
      m2 += dh * xhat[r + k];
    }
    m1 /= dim;
    m2 /= dim;
    const s = rstd[i];
    for (let k = 0; k < dim; k++) {
      const v = s * (dy[r + k] * gain[k] - m1 - xhat[r + k] * m2);
      dx[r + k] = accumulate ? dx[r + k] + v : v;
    }
  }
}

interface BlockState {
  input: Vec;
  xhat1: Vec;
  rstd1: Vec;
  normed1: Vec;
  q: Vec;
  k: Vec;
  v: Vec;
  /** [maxLength][maxLength] attention probabilities, causal. */
  p: Vec;
  attnMask: Vec;
  h: Vec;
  xhat2: Vec;
  rstd2: Vec;
  normed2: Vec;
  f1: Vec;
  ffnMask: Vec;
}

/**
 * One window through the encoder: pre-norm causal self-attention blocks over the valid
 * (non-padding) positions only, then a final layer norm. Padding positions never enter
 * the computation, which equals masking them out of attention and zeroing their rows.
 * Buffers are allocated once per pass object and reused for every window.
 */
export class SequencePass {
  /** Rows 0..n-1: the encoder output per valid position (the last row is the user vector). */
  readonly out: Vec;
  /** After backward: the gradient w.r.t. each valid position's item embedding. */
  readonly inputGrad: Vec;
  n = 0;

  private readonly blocks: BlockState[];
  private readonly finalInput: Vec;
  private readonly xhatF: Vec;
  private readonly rstdF: Vec;
  private readonly inputMask: Vec;
  private readonly types: Int32Array;
  private dropping = false;
  private readonly dY: Vec;
  private readonly dF2: Vec;
  private readonly dF1: Vec;
  private readonly dC: Vec;
  private readonly dH: Vec;
  private readonly dO: Vec;
  private readonly dQ: Vec;
  private readonly dK: Vec;
  private readonly dV: Vec;
  private readonly dA: Vec;
  private readonly dP: Vec;

  constructor(
    private readonly shape: SequenceShape,
    private readonly dropout = 0,
  ) {
    const { maxLength: L, dim: d } = shape;
    const vec = () => new Float64Array(L * d);
    this.blocks = Array.from({ length: shape.numBlocks }, () => ({
      input: vec(),
      xhat1: vec(),
      rstd1: new Float64Array(L),
      normed1: vec(),
      q: vec(),
      k: vec(),
      v: vec(),
      p: new Float64Array(L * L),
      attnMask: vec(),
      h: vec(),
      xhat2: vec(),
      rstd2: new Float64Array(L),
      normed2: vec(),
      f1: vec(),
      ffnMask: vec(),
    }));
    this.finalInput = vec();
    this.xhatF = vec();
    this.rstdF = new Float64Array(L);
    this.out = vec();
    this.inputMask = vec();
    this.types = new Int32Array(L);
    this.inputGrad = vec();
    [this.dY, this.dF2, this.dF1, this.dC, this.dH, this.dO, this.dQ, this.dK, this.dV, this.dA] = Array.from({ length: 10 }, vec);
    this.dP = new Float64Array(L);
  }

  /**
   * Encodes seqItems[from..to) (at most maxLength items, the last one most recent).
   * With `rng` and a dropout rate, samples dropout masks (training); otherwise deterministic.
   */
  forward(w: DenseWeights<Float64Array>, items: Float32Array, seqItems: Int32Array, seqTypes: Int32Array | undefined, from: number, to: number, rng?: () => number): void {
    const { maxLength: L, dim: d, numTypes } = this.shape;
    const n = to - from;
    if (n < 0 || n > L) throw new RangeError(`a window holds 0..${L} items, got ${n}`);
    this.n = n;
    this.dropping = rng !== undefined && this.dropout > 0;
    const x0 = this.blocks.length > 0 ? this.blocks[0].input : this.finalInput;
    const base = L - n;
    for (let i = 0; i < n; i++) {
      const item = seqItems[from + i];
      const type = seqTypes ? seqTypes[from + i] : 0;
      if (type < 0 || type >= numTypes) throw new RangeError(`event type ${type} outside 0..${numTypes - 1}`);
      this.types[i] = type;
      const r = i * d;
      const e = item * d;
      const p = (base + i) * d;
      const t = type * d;
      for (let k = 0; k < d; k++) x0[r + k] = items[e + k] + w.positions[p + k] + w.types[t + k];
    }
    if (this.dropping) this.applyDropout(x0, this.inputMask, n * d, rng!);

    for (let b = 0; b < this.blocks.length; b++) {
      const next = b + 1 < this.blocks.length ? this.blocks[b + 1].input : this.finalInput;
      this.forwardBlock(w.blocks[b], this.blocks[b], next, n, rng);
    }
    layerNorm(this.finalInput, this.xhatF, this.rstdF, this.out, w.finalGain, w.finalBias, n, d);
  }

  private applyDropout(x: Vec, mask: Vec, len: number, rng: () => number): void {
    const keep = 1 / (1 - this.dropout);
    for (let i = 0; i < len; i++) {
      const m = rng() < this.dropout ? 0 : keep;
      mask[i] = m;
      x[i] *= m;
    }
  }

  private forwardBlock(w: BlockWeights<Float64Array>, s: BlockState, out: Vec, n: number, rng?: () => number): void {
    const { dim: d, maxLength: L } = this.shape;
    layerNorm(s.input, s.xhat1, s.rstd1, s.normed1, w.norm1Gain, w.norm1Bias, n, d);
    matmul(s.normed1, w.query, s.q, n, d, d);
    matmul(s.normed1, w.key, s.k, n, d, d);
    matmul(s.normed1, w.value, s.v, n, d, d);
    const scale = 1 / Math.sqrt(d);
    const o = s.h;
    for (let i = 0; i < n; i++) {
      const qi = i * d;
      const pi = i * L;
      let max = -Infinity;
      for (let j = 0; j <= i; j++) {
        let dot = 0;
        const kj = j * d;
        for (let k = 0; k < d; k++) dot += s.q[qi + k] * s.k[kj + k];
        dot *= scale;
        s.p[pi + j] = dot;
        if (dot > max) max = dot;
      }
      let sum = 0;
      for (let j = 0; j <= i; j++) sum += s.p[pi + j] = Math.exp(s.p[pi + j] - max);
      o.fill(0, qi, qi + d);
      for (let j = 0; j <= i; j++) {
        const pj = (s.p[pi + j] /= sum);
        const vj = j * d;
        for (let k = 0; k < d; k++) o[qi + k] += pj * s.v[vj + k];
      }
    }
    if (this.dropping) this.applyDropout(o, s.attnMask, n * d, rng!);
    for (let i = 0; i < n * d; i++) o[i] += s.input[i];
    layerNorm(s.h, s.xhat2, s.rstd2, s.normed2, w.norm2Gain, w.norm2Bias, n, d);
    matmul(s.normed2, w.ffn1, s.f1, n, d, d, w.ffn1Bias);
    for (let i = 0; i < n * d; i++) if (s.f1[i] < 0) s.f1[i] = 0;
    matmul(s.f1, w.ffn2, out, n, d, d, w.ffn2Bias);
    if (this.dropping) this.applyDropout(out, s.ffnMask, n * d, rng!);
    for (let i = 0; i < n * d; i++) out[i] += s.h[i];
  }

  /**
   * Back-propagates dOut (rows 0..n-1, the loss gradient w.r.t. `out`) through the last
   * forward pass: dense gradients accumulate into `grads`, item-embedding gradients land in `inputGrad`.
   */
  backward(w: DenseWeights<Float64Array>, dOut: Vec, grads: DenseWeights<Float64Array>): void {
    const { maxLength: L, dim: d } = this.shape;
    const n = this.n;
    layerNormBack(dOut, this.xhatF, this.rstdF, w.finalGain, grads.finalGain, grads.finalBias, this.dY, n, d, false);
    for (let b = this.blocks.length - 1; b >= 0; b--) this.backwardBlock(w.blocks[b], grads.blocks[b], this.blocks[b], n);
    const dx = this.dY;
    if (this.dropping) for (let i = 0; i < n * d; i++) dx[i] *= this.inputMask[i];
    const base = L - n;
    for (let i = 0; i < n; i++) {
      const r = i * d;
      const p = (base + i) * d;
      const t = this.types[i] * d;
      for (let k = 0; k < d; k++) {
        const g = dx[r + k];
        grads.positions[p + k] += g;
        grads.types[t + k] += g;
        this.inputGrad[r + k] = g;
      }
    }
  }

  /** Reads the block output's gradient from dY and leaves the block input's gradient there. */
  private backwardBlock(w: BlockWeights<Float64Array>, g: BlockWeights<Float64Array>, s: BlockState, n: number): void {
    const { maxLength: L, dim: d } = this.shape;
    const nd = n * d;
    const { dY, dF2, dF1, dC, dH, dO, dQ, dK, dV, dA, dP } = this;
    for (let i = 0; i < nd; i++) dF2[i] = this.dropping ? dY[i] * s.ffnMask[i] : dY[i];
    accumulateWeightGrad(s.f1, dF2, g.ffn2, n, d, d);
    columnSums(dF2, g.ffn2Bias, n, d);
    backThroughWeights(dF2, w.ffn2, dF1, n, d, d, false);
    for (let i = 0; i < nd; i++) if (s.f1[i] === 0) dF1[i] = 0;
    accumulateWeightGrad(s.normed2, dF1, g.ffn1, n, d, d);
    columnSums(dF1, g.ffn1Bias, n, d);
    backThroughWeights(dF1, w.ffn1, dC, n, d, d, false);
    for (let i = 0; i < nd; i++) dH[i] = dY[i];
    layerNormBack(dC, s.xhat2, s.rstd2, w.norm2Gain, g.norm2Gain, g.norm2Bias, dH, n, d, true);
    for (let i = 0; i < nd; i++) dO[i] = this.dropping ? dH[i] * s.attnMask[i] : dH[i];

    const scale = 1 / Math.sqrt(d);
    dQ.fill(0, 0, nd);
    dK.fill(0, 0, nd);
    dV.fill(0, 0, nd);
    for (let i = 0; i < n; i++) {
      const oi = i * d;
      const pi = i * L;
      let weighted = 0;
      for (let j = 0; j <= i; j++) {
        const vj = j * d;
        const pij = s.p[pi + j];
        let dot = 0;
        for (let k = 0; k < d; k++) {
          dot += dO[oi + k] * s.v[vj + k];
          dV[vj + k] += pij * dO[oi + k];
        }
        dP[j] = dot;
        weighted += pij * dot;
      }
      for (let j = 0; j <= i; j++) {
        const ds = s.p[pi + j] * (dP[j] - weighted) * scale;
        if (ds === 0) continue;
        const kj = j * d;
        for (let k = 0; k < d; k++) {
          dQ[oi + k] += ds * s.k[kj + k];
          dK[kj + k] += ds * s.q[oi + k];
        }
      }
    }
    accumulateWeightGrad(s.normed1, dQ, g.query, n, d, d);
    accumulateWeightGrad(s.normed1, dK, g.key, n, d, d);
    accumulateWeightGrad(s.normed1, dV, g.value, n, d, d);
    backThroughWeights(dQ, w.query, dA, n, d, d, false);
    backThroughWeights(dK, w.key, dA, n, d, d, true);
    backThroughWeights(dV, w.value, dA, n, d, d, true);
    for (let i = 0; i < nd; i++) dY[i] = dH[i];
    layerNormBack(dA, s.xhat1, s.rstd1, w.norm1Gain, g.norm1Gain, g.norm1Bias, dY, n, d, true);
  }
}
