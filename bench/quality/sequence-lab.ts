import { readFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { encodeUsers, SequenceModel } from '../../src/training/sequence/sequence-model';
import { defaultEpochs, SEQUENCE_DEFAULTS, SequenceTrainingOptions, trainSequenceModel } from '../../src/training/sequence/train-sequence-model';

/**
 * Offline lab for the sequence model on a MovieLens ratings directory (e.g. ml-latest-small):
 * leave-last-out per user by time, every item scored except the user's training items,
 * HR@10 / NDCG@10 next to popularity and recency-weighted item-kNN on the same split.
 *   node dist/bench/quality/sequence-lab.js <dir> [--dim 32 --epochs 10 ...] [--every-epoch]
 */

const TOP = 10;
const KNN_NEIGHBOURS = 50;
const RECENCY_DECAY = 0.7;
const log = (msg: string) => process.stdout.write(`${msg}\n`);
const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(0)} MiB`;

interface Split {
  numItems: number;
  train: Int32Array[];
  test: Int32Array;
}

/** Ratings sorted per user by (timestamp, file order); every user's last item is held out. */
function loadSplit(dir: string): Split {
  const lines = readFileSync(join(dir, 'ratings.csv'), 'utf8').split('\n');
  const byUser = new Map<number, { item: number; ts: number; order: number }[]>();
  const itemIndex = new Map<number, number>();
  for (let i = 1; i < lines.length; i++) {
    if (!lines[i]) continue;
    const [user, movie, , ts] = lines[i].split(',').map(Number);
    let item = itemIndex.get(movie);
    if (item === undefined) itemIndex.set(movie, (item = itemIndex.size + 1));
    let rows = byUser.get(user);
    if (!rows) byUser.set(user, (rows = []));
    rows.push({ item, ts, order: i });
  }
  const train: Int32Array[] = [];
  const test: number[] = [];
  for (const rows of byUser.values()) {
    if (rows.length < 2) continue;
    rows.sort((a, b) => a.ts - b.ts || a.order - b.order);
    train.push(Int32Array.from(rows.slice(0, -1), (r) => r.item));
    test.push(rows[rows.length - 1].item);
  }
  return { numItems: itemIndex.size, train, test: Int32Array.from(test) };
}

interface Score {
  hr: number;
  ndcg: number;
}

/** Rank of the held-out item among all items not in the user's training history; ties go to the lower item index. */
function evaluate(split: Split, scoreUser: (u: number, out: Float64Array) => void): Score {
  const scores = new Float64Array(split.numItems + 1);
  const seen = new Uint8Array(split.numItems + 1);
  let hits = 0;
  let ndcg = 0;
  split.train.forEach((history, u) => {
    scoreUser(u, scores);
    for (const item of history) seen[item] = 1;
    const target = split.test[u];
    const s = scores[target];
    let rank = 0;
    for (let j = 1; j <= split.numItems && rank < TOP; j++) {
      if (j === target || seen[j]) continue;
      if (scores[j] > s || (scores[j] === s && j < target)) rank++;
    }
    for (const item of history) seen[item] = 0;
    if (seen[target] === 0 && rank < TOP) {
      hits++;
      ndcg += 1 / Math.log2(rank + 2);
    }
  });
  return { hr: hits / split.train.length, ndcg: ndcg / split.train.length };
}

function popularity(split: Split): (u: number, out: Float64Array) => void {
  const counts = new Float64Array(split.numItems + 1);
  for (const h of split.train) for (const item of h) counts[item]++;
  return (_u, out) => out.set(counts);
}

/** Cosine item-kNN on the binary training matrix, 50 neighbours; the k-th most recent history item weighs 0.7^k. */
function recencyKnn(split: Split): (u: number, out: Float64Array) => void {
  const n = split.numItems;
  const usersOf: number[][] = Array.from({ length: n + 1 }, () => []);
  split.train.forEach((h, u) => h.forEach((item) => usersOf[item].push(u)));
  const co = new Float64Array(n + 1);
  const neighbours: { item: Int32Array; sim: Float64Array }[] = [];
  for (let i = 0; i <= n; i++) {
    const touched: number[] = [];
    for (const u of usersOf[i]) {
      for (const j of split.train[u]) {
        if (j === i) continue;
        if (co[j] === 0) touched.push(j);
        co[j]++;
      }
    }
    const ranked = touched
      .map((j) => ({ j, sim: co[j] / Math.sqrt(usersOf[i].length * usersOf[j].length) }))
      .sort((a, b) => b.sim - a.sim || a.j - b.j)
      .slice(0, KNN_NEIGHBOURS);
    for (const j of touched) co[j] = 0;
    neighbours.push({ item: Int32Array.from(ranked, (r) => r.j), sim: Float64Array.from(ranked, (r) => r.sim) });
  }
  return (u, out) => {
    out.fill(0);
    const h = split.train[u];
    let weight = 1;
    for (let k = h.length - 1; k >= 0; k--, weight *= RECENCY_DECAY) {
      const nb = neighbours[h[k]];
      for (let x = 0; x < nb.item.length; x++) out[nb.item[x]] += weight * nb.sim[x];
    }
  };
}

function sequenceScorer(model: SequenceModel, split: Split): (u: number, out: Float64Array) => void {
  const users = encodeUsers(model, split.train);
  const { dim, itemEmbeddings: items } = model;
  return (u, out) => {
    const o = u * dim;
    for (let j = 0; j <= split.numItems; j++) {
      let s = 0;
      for (let k = 0; k < dim; k++) s += users[o + k] * items[j * dim + k];
      out[j] = s;
    }
  };
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      dim: { type: 'string' },
      'max-length': { type: 'string' },
      blocks: { type: 'string' },
      epochs: { type: 'string' },
      lr: { type: 'string' },
      negatives: { type: 'string' },
      sampling: { type: 'string' },
      l2: { type: 'string' },
      dropout: { type: 'string' },
      batch: { type: 'string' },
      seed: { type: 'string' },
      'every-epoch': { type: 'boolean' },
      'skip-baselines': { type: 'boolean' },
    },
  });
  const dir = positionals[0];
  if (!dir) throw new Error('usage: sequence-lab <ml-latest-small directory> [--dim N --epochs N ...]');
  const num = (v: string | undefined) => (v === undefined ? undefined : Number(v));
  const given: SequenceTrainingOptions = {
    dim: num(values.dim),
    maxLength: num(values['max-length']),
    numBlocks: num(values.blocks),
    epochs: num(values.epochs),
    learningRate: num(values.lr),
    negatives: num(values.negatives),
    negativeSampling: values.sampling as SequenceTrainingOptions['negativeSampling'],
    l2: num(values.l2),
    dropout: num(values.dropout),
    batchSize: num(values.batch),
    seed: num(values.seed),
  };
  const options = Object.fromEntries(Object.entries(given).filter(([, v]) => v !== undefined)) as SequenceTrainingOptions;

  const split = loadSplit(dir);
  const interactions = split.train.reduce((s, h) => s + h.length, 0);
  log(`${split.train.length} users, ${split.numItems} items, ${interactions} training interactions`);
  const positions = split.train.reduce((s, h) => s + Math.max(0, h.length - 1), 0);
  log(`options: ${JSON.stringify({ ...SEQUENCE_DEFAULTS, epochs: defaultEpochs(positions), ...options })}`);
  const rows: [string, Score, string][] = [];
  if (!values['skip-baselines']) {
    rows.push(['popularity', evaluate(split, popularity(split)), '']);
    const t = Date.now();
    const knn = recencyKnn(split);
    rows.push([`item-kNN cosine ${KNN_NEIGHBOURS}, recency ${RECENCY_DECAY}^k`, evaluate(split, knn), `${((Date.now() - t) / 1000).toFixed(1)} s`]);
  }

  const heapBefore = process.memoryUsage().heapUsed;
  let peakRss = process.memoryUsage().rss;
  const started = Date.now();
  let lastEpoch = started;
  let lastCpu = process.cpuUsage();
  const cpuStarted = lastCpu;
  let evalMs = 0;
  let evalCpuMicros = 0;
  const model = await trainSequenceModel(
    { sequences: split.train, numItems: split.numItems },
    {
      ...options,
      onEpoch: (epoch, loss, snapshot) => {
        const now = Date.now();
        peakRss = Math.max(peakRss, process.memoryUsage().rss);
        const cpu = process.cpuUsage(lastCpu);
        let line = `epoch ${epoch + 1}: loss ${loss.toFixed(4)}, ${((now - lastEpoch) / 1000).toFixed(1)} s (cpu ${((cpu.user + cpu.system) / 1e6).toFixed(1)} s)`;
        if (values['every-epoch']) {
          const s = evaluate(split, sequenceScorer(snapshot(), split));
          line += `, HR@10 ${s.hr.toFixed(4)}, NDCG@10 ${s.ndcg.toFixed(4)}`;
        }
        log(line);
        lastEpoch = Date.now();
        evalMs += lastEpoch - now;
        const evalCpu = process.cpuUsage(lastCpu);
        evalCpuMicros += evalCpu.user + evalCpu.system - (cpu.user + cpu.system);
        lastCpu = process.cpuUsage();
      },
    },
  );
  const trainMs = Date.now() - started - evalMs;
  const trainCpu = process.cpuUsage(cpuStarted);
  const trainCpuS = (trainCpu.user + trainCpu.system - evalCpuMicros) / 1e6;
  const mem = process.memoryUsage();
  rows.push(['sequence model', evaluate(split, sequenceScorer(model, split)), `${(trainMs / 1000).toFixed(1)} s train (cpu ${trainCpuS.toFixed(1)} s)`]);

  log('');
  log('| model | HR@10 | NDCG@10 | time |');
  log('|---|---|---|---|');
  for (const [name, s, time] of rows) log(`| ${name} | ${s.hr.toFixed(4)} | ${s.ndcg.toFixed(4)} | ${time} |`);
  log('');
  log(`training: ${(trainMs / 1000).toFixed(1)} s wall, ${trainCpuS.toFixed(1)} s cpu (load average ${loadavg()[0].toFixed(1)} on ${availableParallelism()} cores), heap +${mib(mem.heapUsed - heapBefore)}, rss ${mib(Math.max(peakRss, mem.rss))}`);
}

main().catch((err) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
