import { aucPerHead } from './metrics';
import { fitStandardizer, initMlp, MlpWeights, predict, trainMlp, trainMlpAsync } from './mlp';
import { makeSyntheticData } from './synthetic-data';

const HEADS = ['like', 'complete', 'skip', 'share'];

describe('initMlp', () => {
  it('builds layers of the requested shapes', () => {
    const w = initMlp(10, [8, 4], HEADS, 1);
    expect(w.layers.map((l) => [l.inDim, l.outDim])).toEqual([
      [10, 8],
      [8, 4],
      [4, 4],
    ]);
    expect(w.layers[0].weights).toHaveLength(80);
    expect(w.layers[2].bias).toHaveLength(4);
  });

  it('is deterministic for a seed and differs across seeds', () => {
    const a = initMlp(10, [8], HEADS, 42);
    const b = initMlp(10, [8], HEADS, 42);
    const c = initMlp(10, [8], HEADS, 43);
    expect(a.layers[0].weights).toEqual(b.layers[0].weights);
    expect(a.layers[0].weights).not.toEqual(c.layers[0].weights);
  });

  it('scales hidden weights like He init', () => {
    const w = initMlp(200, [400], ['a'], 7);
    const v = w.layers[0].weights;
    const variance = v.reduce((s, x) => s + x * x, 0) / v.length;
    expect(variance).toBeGreaterThan((2 / 200) * 0.9);
    expect(variance).toBeLessThan((2 / 200) * 1.1);
  });

  it('rejects invalid shapes', () => {
    expect(() => initMlp(0, [4], HEADS, 1)).toThrow(RangeError);
    expect(() => initMlp(3, [4], [], 1)).toThrow(RangeError);
    expect(() => initMlp(3, [4], ['a', 'a'], 1)).toThrow(RangeError);
  });
});

describe('predict', () => {
  function handModel(): MlpWeights {
    return {
      inputDim: 2,
      hidden: [2],
      heads: ['a', 'b'],
      layers: [
        // h0 = relu(x0 - x1), h1 = relu(x0 + 2*x1 + 1)
        { inDim: 2, outDim: 2, weights: Float32Array.from([1, 1, -1, 2]), bias: Float32Array.from([0, 1]) },
        // a = sigmoid(h0 - h1), b = sigmoid(0.5*h1)
        { inDim: 2, outDim: 2, weights: Float32Array.from([1, 0, -1, 0.5]), bias: Float32Array.from([0, 0]) },
      ],
    };
  }
  const sigmoid = (z: number): number => 1 / (1 + Math.exp(-z));

  it('matches a hand-computed forward pass', () => {
    const out = predict(handModel(), Float32Array.from([3, 1, -1, 2]), 2);
    // row 0: h = [2, 6]; row 1: h = [0, 4]
    expect(out[0]).toBeCloseTo(sigmoid(-4), 6);
    expect(out[1]).toBeCloseTo(sigmoid(3), 6);
    expect(out[2]).toBeCloseTo(sigmoid(-4), 6);
    expect(out[3]).toBeCloseTo(sigmoid(2), 6);
  });

  it('applies the standardizer when given', () => {
    const norm = { mean: Float32Array.from([1, -1]), std: Float32Array.from([2, 0.5]) };
    const raw = Float32Array.from([7, -0.5]); // standardises to [3, 1]
    expect(predict(handModel(), raw, 1, norm)).toEqual(predict(handModel(), Float32Array.from([3, 1]), 1));
  });

  it('handles more rows than one internal chunk', () => {
    const w = initMlp(3, [5], HEADS, 3);
    const rows = 2500;
    const x = Float32Array.from({ length: rows * 3 }, (_, i) => Math.sin(i));
    const all = predict(w, x, rows);
    const lastRow = predict(w, x.slice((rows - 1) * 3), 1);
    expect(all).toHaveLength(rows * 4);
    expect(Array.from(all.slice((rows - 1) * 4))).toEqual(Array.from(lastRow));
    expect(all.every((p) => p > 0 && p < 1)).toBe(true);
  });

  it('rejects inputs of the wrong size', () => {
    expect(() => predict(handModel(), new Float32Array(3), 2)).toThrow(RangeError);
  });
});

describe('fitStandardizer', () => {
  it('computes column mean and population std', () => {
    const x = Float32Array.from([1, 10, 3, 10, 5, 10]);
    const { mean, std } = fitStandardizer(x, 3, 2);
    expect(Array.from(mean)).toEqual([3, 10]);
    expect(std[0]).toBeCloseTo(Math.sqrt(8 / 3), 6);
    // constant column would divide by zero, so it falls back to 1
    expect(std[1]).toBe(1);
  });
});

describe('trainMlp', () => {
  const train = makeSyntheticData(20000, 12, HEADS.length, 11, 0.1);
  const test = makeSyntheticData(5000, 12, HEADS.length, 12);
  const norm = fitStandardizer(train.x, train.rows, train.dim);
  const opts = { epochs: 6, batchSize: 256, learningRate: 0.005, l2: 1e-5, seed: 5, norm };

  it('lowers the loss and reaches AUC > 0.8 on every held-out head', () => {
    const w = initMlp(train.dim, [32, 16], HEADS, 1);
    const before = aucPerHead(predict(w, test.x, test.rows, norm), test.y, HEADS.length);
    const losses = trainMlp(w, train, opts);
    expect(losses).toHaveLength(6);
    expect(losses[5]).toBeLessThan(losses[0]);
    const after = aucPerHead(predict(w, test.x, test.rows, norm), test.y, HEADS.length);
    for (let h = 0; h < HEADS.length; h++) {
      expect(after[h]).toBeGreaterThan(0.8);
      expect(after[h]).toBeGreaterThan(before[h]);
    }
  });

  it('is deterministic for a seed', () => {
    const small = { ...train, rows: 2000, x: train.x.subarray(0, 2000 * 12), y: train.y.subarray(0, 8000), mask: undefined };
    const a = initMlp(12, [8], HEADS, 2);
    const b = initMlp(12, [8], HEADS, 2);
    const la = trainMlp(a, small, { ...opts, epochs: 2 });
    const lb = trainMlp(b, small, { ...opts, epochs: 2 });
    expect(la).toEqual(lb);
    expect(a.layers[1].weights).toEqual(b.layers[1].weights);
  });

  it('trains identically when run cooperatively, yielding to the event loop between minibatches', async () => {
    const small = { ...train, rows: 2000, x: train.x.subarray(0, 2000 * 12), y: train.y.subarray(0, 8000), mask: undefined };
    const a = initMlp(12, [8], HEADS, 2);
    const b = initMlp(12, [8], HEADS, 2);
    let ticks = 0;
    const timer = setInterval(() => ticks++, 0);
    const la = trainMlp(a, small, { ...opts, epochs: 2 });
    const lb = await trainMlpAsync(b, small, { ...opts, epochs: 2 }, 0);
    clearInterval(timer);
    expect(lb).toEqual(la);
    expect(b.layers[0].weights).toEqual(a.layers[0].weights);
    expect(ticks).toBeGreaterThan(0);
  });

  it('ignores masked labels', () => {
    const rows = 3000;
    const data = makeSyntheticData(rows, 6, 2, 3);
    const mask = new Float32Array(rows * 2);
    for (let r = 0; r < rows; r++) mask[r * 2] = 1; // head 1 never labelled
    const w = initMlp(6, [4], ['a', 'b'], 4);
    const out = w.layers[1];
    const headBWeights = Array.from({ length: 4 }, (_, i) => out.weights[i * 2 + 1]);
    const headBBias = out.bias[1];
    const headAWeights = Array.from({ length: 4 }, (_, i) => out.weights[i * 2]);
    trainMlp(w, { ...data, mask }, { epochs: 2, batchSize: 64, learningRate: 0.01, seed: 1 });
    expect(Array.from({ length: 4 }, (_, i) => out.weights[i * 2 + 1])).toEqual(headBWeights);
    expect(out.bias[1]).toBe(headBBias);
    expect(Array.from({ length: 4 }, (_, i) => out.weights[i * 2])).not.toEqual(headAWeights);
  });

  it('shrinks weights with a strong L2 penalty', () => {
    const data = makeSyntheticData(2000, 6, 1, 9);
    const norm6 = fitStandardizer(data.x, data.rows, 6);
    const sq = (w: MlpWeights): number => w.layers[0].weights.reduce((s, v) => s + v * v, 0);
    const plain = initMlp(6, [8], ['a'], 1);
    const penalised = initMlp(6, [8], ['a'], 1);
    const base = { epochs: 3, batchSize: 64, learningRate: 0.01, seed: 1, norm: norm6 };
    trainMlp(plain, data, base);
    trainMlp(penalised, data, { ...base, l2: 1 });
    expect(sq(penalised)).toBeLessThan(sq(plain) * 0.5);
  });

  it('steps every weight against its gradient (checked by finite differences, odd batch included)', () => {
    const data = makeSyntheticData(5, 3, 2, 21);
    const stdNorm = fitStandardizer(data.x, data.rows, 3);
    const w = initMlp(3, [4, 3], ['a', 'b'], 8);
    const meanLoss = (m: MlpWeights): number => {
      const p = predict(m, data.x, data.rows, stdNorm);
      let sum = 0;
      for (let k = 0; k < p.length; k++) sum -= data.y[k] * Math.log(p[k]) + (1 - data.y[k]) * Math.log(1 - p[k]);
      return sum / data.rows;
    };
    const eps = 1e-2;
    const gradients = w.layers.map((layer) =>
      Array.from(layer.weights, (v, k) => {
        layer.weights[k] = v + eps;
        const up = meanLoss(w);
        layer.weights[k] = v - eps;
        const down = meanLoss(w);
        layer.weights[k] = v;
        return (up - down) / (2 * eps);
      }),
    );
    const before = w.layers.map((l) => Float32Array.from(l.weights));
    const lr = 1e-3;
    // One Adam step on the whole batch of 5 rows moves each weight by about lr, against the sign of its gradient.
    trainMlp(w, data, { epochs: 1, batchSize: 5, learningRate: lr, seed: 1, norm: stdNorm });
    let checked = 0;
    w.layers.forEach((layer, l) =>
      gradients[l].forEach((g, k) => {
        if (Math.abs(g) < 1e-3) return;
        expect((layer.weights[k] - before[l][k]) / lr).toBeCloseTo(-Math.sign(g), 2);
        checked++;
      }),
    );
    expect(checked).toBeGreaterThan(15);
  });

  it('rejects mismatched label arrays', () => {
    const w = initMlp(12, [4], HEADS, 1);
    expect(() => trainMlp(w, { ...train, y: new Float32Array(5) }, opts)).toThrow(RangeError);
  });
});
