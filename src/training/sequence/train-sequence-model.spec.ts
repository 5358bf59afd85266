import { EventLoopYielder } from '../../common/event-loop-yielder';
import { encodeUsers, itemEmbeddings, SequenceModel } from './sequence-model';
import { createRng, denseViews } from './sequence-weights';
import { defaultEpochs, SequenceTrainingOptions, trainSequenceModel } from './train-sequence-model';

const NUM_ITEMS = 200;
const next = (item: number, type: number) => ((item + type) % NUM_ITEMS) + 1;

/** Item i is followed by i + 1 after a plain view (type 0) and by i + 2 after an engagement (type 1). */
function chains(users: number, seed: number) {
  const rng = createRng(seed);
  const sequences: Int32Array[] = [];
  const types: Int32Array[] = [];
  for (let u = 0; u < users; u++) {
    const n = 10 + Math.floor(rng() * 20);
    const seq = new Int32Array(n);
    const t = Int32Array.from({ length: n }, () => (rng() < 0.5 ? 0 : 1));
    seq[0] = 1 + Math.floor(rng() * NUM_ITEMS);
    for (let i = 1; i < n; i++) seq[i] = next(seq[i - 1], t[i - 1]);
    sequences.push(seq);
    types.push(t);
  }
  return { sequences, types };
}

function hitRate(users: Float32Array, items: Float32Array, dim: number, targets: number[]): number {
  let hits = 0;
  targets.forEach((target, u) => {
    const score = (j: number) => {
      let s = 0;
      for (let k = 0; k < dim; k++) s += users[u * dim + k] * items[j * dim + k];
      return s;
    };
    const s = score(target);
    let above = 0;
    for (let j = 1; j <= NUM_ITEMS; j++) if (j !== target && score(j) > s) above++;
    if (above < 10) hits++;
  });
  return hits / targets.length;
}

const FAST: SequenceTrainingOptions = { dim: 16, maxLength: 20, numBlocks: 1, epochs: 12, learningRate: 0.01, negatives: 32, batchSize: 4, dropout: 0 };

describe('trainSequenceModel', () => {
  const train = chains(300, 1);
  const test = chains(100, 2);
  const targets = test.sequences.map((s, u) => next(s[s.length - 1], test.types[u][s.length - 1]));
  let model: SequenceModel;

  beforeAll(async () => {
    model = await trainSequenceModel({ ...train, numItems: NUM_ITEMS }, { ...FAST, seed: 3 });
  });

  it('learns a sequential pattern that depends on the event type; popularity cannot', () => {
    const users = encodeUsers(model, test.sequences, test.types);
    expect(hitRate(users, itemEmbeddings(model), 16, targets)).toBeGreaterThan(0.9);

    const counts = new Float32Array(NUM_ITEMS + 1);
    for (const s of train.sequences) for (const item of s) counts[item]++;
    const popularity = hitRate(new Float32Array(100).fill(1), counts, 1, targets);
    expect(popularity).toBeLessThan(0.2);

    // Without the types the step is a coin flip between i + 1 and i + 2: both stay in the top 10, the top 1 does not.
    const wrongTypes = test.types.map((t) => t.map((x) => 1 - x));
    const misled = encodeUsers(model, test.sequences, wrongTypes);
    const top1 = (u: Float32Array) => hitRateAt1(u, itemEmbeddings(model), targets);
    expect(top1(users)).toBeGreaterThan(0.8);
    expect(top1(misled)).toBeLessThan(0.2);
  });

  it('is deterministic for a seed', async () => {
    const small = { sequences: train.sequences.slice(0, 50), types: train.types.slice(0, 50), numItems: NUM_ITEMS };
    const options = { ...FAST, epochs: 2, dropout: 0.2, negativeSampling: 'popularity' as const };
    const a = await trainSequenceModel(small, { ...options, seed: 7 });
    const b = await trainSequenceModel(small, { ...options, seed: 7 });
    const c = await trainSequenceModel(small, { ...options, seed: 8 });
    expect(b.itemEmbeddings).toEqual(a.itemEmbeddings);
    expect(b.dense).toEqual(a.dense);
    expect(c.itemEmbeddings).not.toEqual(a.itemEmbeddings);
  });

  it('encodes empty, short and long histories', () => {
    const seq = test.sequences[0];
    expect(seq.length).toBeGreaterThan(20);
    const [empty, one, long, lastL] = chunk(encodeUsers(model, [new Int32Array(0), seq.subarray(0, 1), seq, seq.subarray(seq.length - 20)]), 16);
    expect(empty).toEqual(Float32Array.from(denseViews(model.dense, model).finalBias));
    expect(one.some((v) => !Number.isFinite(v))).toBe(false);
    expect(long).toEqual(lastL);
    expect(itemEmbeddings(model).subarray(0, 16).every((v) => v === 0)).toBe(true);
  });

  it('hands the event loop back when given a yielder', async () => {
    const small = { sequences: train.sequences.slice(0, 100), numItems: NUM_ITEMS };
    const ticksDuring = async (yielder?: EventLoopYielder) => {
      let ticks = 0;
      const timer = setInterval(() => ticks++, 1);
      await trainSequenceModel(small, { ...FAST, epochs: 3, yielder });
      clearInterval(timer);
      return ticks;
    };
    expect(await ticksDuring()).toBe(0);
    expect(await ticksDuring(new EventLoopYielder(2))).toBeGreaterThan(0);
  });

  it('passes over small logs many times and over large ones few', () => {
    expect(defaultEpochs(5_000)).toBe(20);
    expect(defaultEpochs(100_000)).toBe(12);
    expect(defaultEpochs(1_000_000)).toBe(2);
    expect(defaultEpochs(50_000_000)).toBe(2);
  });

  it('rejects items and types outside their ranges', async () => {
    await expect(trainSequenceModel({ sequences: [Int32Array.from([1, NUM_ITEMS + 1])], numItems: NUM_ITEMS })).rejects.toThrow(RangeError);
    await expect(trainSequenceModel({ sequences: [Int32Array.from([1, 0])], numItems: NUM_ITEMS })).rejects.toThrow(/outside/);
    await expect(trainSequenceModel({ sequences: [Int32Array.from([1, 2])], types: [Int32Array.from([0, 3])], numItems: NUM_ITEMS, numTypes: 2 })).rejects.toThrow(/type 3/);
    expect(() => encodeUsers(model, [Int32Array.from([1])], [Int32Array.from([2])])).toThrow(/type 2/);
  });
});

function chunk(a: Float32Array, dim: number): Float32Array[] {
  return Array.from({ length: a.length / dim }, (_, i) => a.slice(i * dim, (i + 1) * dim));
}

function hitRateAt1(users: Float32Array, items: Float32Array, targets: number[]): number {
  const dim = 16;
  let hits = 0;
  targets.forEach((target, u) => {
    let best = -1;
    let bestScore = -Infinity;
    for (let j = 1; j <= NUM_ITEMS; j++) {
      let s = 0;
      for (let k = 0; k < dim; k++) s += users[u * dim + k] * items[j * dim + k];
      if (s > bestScore) [best, bestScore] = [j, s];
    }
    if (best === target) hits++;
  });
  return hits / targets.length;
}
