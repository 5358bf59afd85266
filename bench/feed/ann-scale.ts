/**
 * Nearest-neighbour index at catalog scale: builds the HNSW index over N video
 * embeddings from the seed world's generator (topic clusters, creator styles, noise)
 * exactly as the api does (worker thread, written to a file, loaded with readIndex),
 * then measures query latency and recall against exact search for several ef values.
 *
 *   npm run build && node dist/bench/feed/ann-scale.js [--videos 1000000] [--k 180]
 */
import { HierarchicalNSW } from 'hnswlib-node';
import { statSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { benchConfig } from '../bench-env';
import { buildHnswInWorker } from '../../src/feed/ann/hnsw-build-worker';
import { normalize, Rng } from '../../seed/random';
import { buildWorld } from '../../seed/world';

const { values } = parseArgs({
  options: { videos: { type: 'string', default: '1000000' }, k: { type: 'string', default: '180' }, queries: { type: 'string', default: '200' } },
});
const N = Number(values.videos);
const K = Number(values.k);
const QUERIES = Number(values.queries);
const config = benchConfig();
const DIM = config.EMBEDDING_DIM;
const mib = (bytes: number) => (bytes / 2 ** 20).toFixed(0);
const log = (msg: string) => process.stdout.write(`[ann] ${msg}\n`);

async function main(): Promise<void> {
  const world = buildWorld({
    users: 0,
    videos: N,
    creators: Math.max(5, Math.round(N / 20)),
    history: 0,
    embeddingCoverage: 1,
    embeddingDim: DIM,
    seed: 42,
    now: new Date('2026-11-01T00:00:00Z'),
    historyDays: 7,
  });
  const vectors = new Float32Array(N * DIM);
  world.videos.forEach((v, i) => vectors.set(v.embedding!, i * DIM));
  const exact = vectors.slice();
  const rng = new Rng(7);
  const queries = Array.from({ length: QUERIES }, () => {
    const q = new Float32Array(DIM);
    for (let t = 0; t < 3; t++) {
      const c = world.topicCentroids[rng.int(world.topicCentroids.length)];
      for (let d = 0; d < DIM; d++) q[d] += rng.next() * c[d];
    }
    return Array.from(normalize(q));
  });
  log(`${N} vectors of ${DIM} floats generated; building with M=${config.ANN_M}, efConstruction=${config.ANN_EF_CONSTRUCTION} on a worker thread...`);

  const file = join(tmpdir(), `reelrank-ann-scale-${process.pid}.hnsw`);
  const buildStarted = performance.now();
  await buildHnswInWorker({ dim: DIM, count: N, vectors, capacity: Math.ceil(N * 1.1) + 1000, m: config.ANN_M, efConstruction: config.ANN_EF_CONSTRUCTION, file });
  const buildSeconds = (performance.now() - buildStarted) / 1000;
  const fileBytes = statSync(file).size;
  const rssBefore = process.memoryUsage().rss;
  const loadStarted = performance.now();
  const index = new HierarchicalNSW('cosine', DIM);
  await index.readIndex(file);
  const loadSeconds = (performance.now() - loadStarted) / 1000;
  const rssIndex = process.memoryUsage().rss - rssBefore;
  unlinkSync(file);
  log(`built in ${buildSeconds.toFixed(1)} s; index file ${mib(fileBytes)} MiB; loaded in ${loadSeconds.toFixed(1)} s, +${mib(rssIndex)} MiB resident`);

  const truth = queries.map((q) => {
    const scores = new Float32Array(N);
    for (let i = 0; i < N; i++) {
      let s = 0;
      for (let d = 0; d < DIM; d++) s += q[d] * exact[i * DIM + d];
      scores[i] = s;
    }
    const cutoff = scores.slice().sort()[N - K];
    const set = new Set<number>();
    for (let i = 0; i < N; i++) if (scores[i] >= cutoff) set.add(i);
    return set;
  });

  const rows = ['| ef | k | mean µs/query | p99 µs | recall@k |', '|---|---|---|---|---|'];
  for (const ef of [K, Math.round(K * 1.5), K * 2]) {
    index.setEf(ef);
    const times: number[] = [];
    let hits = 0;
    queries.forEach((q, i) => {
      const started = performance.now();
      const { neighbors } = index.searchKnn(q, K);
      times.push((performance.now() - started) * 1000);
      hits += neighbors.filter((n) => truth[i].has(n)).length;
    });
    times.sort((a, b) => a - b);
    const mean = times.reduce((a, b) => a + b, 0) / times.length;
    rows.push(`| ${ef} | ${K} | ${mean.toFixed(0)} | ${times[Math.floor(times.length * 0.99)].toFixed(0)} | ${(hits / (K * QUERIES)).toFixed(3)} |`);
  }
  log(`queries (${QUERIES}, single thread):\n\n${rows.join('\n')}\n`);
}

main().catch((err) => {
  process.stderr.write(`ann bench failed: ${(err as Error).stack}\n`);
  process.exit(1);
});
