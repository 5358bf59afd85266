/**
 * Nearest-neighbour index at catalog scale: builds the HNSW index over N video
 * embeddings from the seed world's generator (topic clusters, creator styles, noise)
 * exactly as the api does (worker thread, written to a file, loaded with readIndex),
 * then measures query latency and recall against exact search for several ef values.
 * First it loads the same N videos into the api's catalog snapshot (rows as Postgres
 * returns them) and reports the heap that costs per video.
 *
 *   npm run build && node --expose-gc dist/bench/feed/ann-scale.js [--videos 1000000] [--k 180]
 */
import { HierarchicalNSW } from 'hnswlib-node';
import { statSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { benchConfig } from '../bench-env';
import { CatalogRepository, SharedStrings, toCatalogVideo, toCatalogVideos } from '../../src/catalog/catalog.repository';
import { CatalogSnapshotService } from '../../src/catalog/catalog-snapshot.service';
import { PubSubService } from '../../src/redis/pubsub.service';
import { RedisKeys } from '../../src/redis/redis-keys';
import { buildHnswInWorker } from '../../src/feed/ann/hnsw-build-worker';
import { normalize, Rng } from '../../seed/random';
import { buildWorld, SeedVideo } from '../../seed/world';

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
const PAGE = 20_000;

/** Heap (JS objects plus array buffers) after a full GC. */
function settledBytes(): number {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run with node --expose-gc (the catalog figure needs a full GC before and after)');
  gc();
  const { heapUsed, arrayBuffers } = process.memoryUsage();
  return heapUsed + arrayBuffers;
}

/** Loads the videos into a CatalogSnapshotService as the api does at boot; returns it (kept alive by the caller) and its heap cost. */
async function loadCatalogSnapshot(videos: SeedVideo[]): Promise<{ snapshot: CatalogSnapshotService; bytes: number; seconds: number }> {
  async function* pages() {
    const strings = new SharedStrings(); // one set per whole read, as CatalogRepository.pages does
    for (let start = 0; start < videos.length; start += PAGE) {
      // Through JSON, so every row has its own strings and number arrays, as rows from pg do.
      const rows = JSON.parse(
        JSON.stringify(
          videos.slice(start, start + PAGE).map((v) => ({
            id: v.id,
            creator_id: v.creatorId,
            title: v.title,
            category: v.tags[0],
            tags: v.tags,
            duration_ms: v.durationMs,
            created_at: v.createdAt.getTime(),
            status: 'active',
            embedding: v.embedding ? Array.from(v.embedding) : null,
          })),
        ),
      ) as (Parameters<typeof toCatalogVideo>[0] & { created_at: number })[];
      yield toCatalogVideos(rows.map((r) => ({ ...r, created_at: new Date(r.created_at) })), strings);
    }
  }
  const before = settledBytes();
  const started = performance.now();
  const snapshot = new CatalogSnapshotService({ pages } as unknown as CatalogRepository, {} as PubSubService, new RedisKeys('bench'));
  await snapshot.reloadAll();
  const seconds = (performance.now() - started) / 1000;
  return { snapshot, bytes: settledBytes() - before, seconds };
}

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
  const catalog = await loadCatalogSnapshot(world.videos);
  log(
    `catalog snapshot of ${catalog.snapshot.size} videos (${DIM}-float embeddings) loaded in ${catalog.seconds.toFixed(1)} s: ` +
      `${mib(catalog.bytes)} MiB of heap, ${(catalog.bytes / N).toFixed(0)} bytes a video`,
  );
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
  // The whole process's CPU (every thread): the main thread only waits while the worker builds.
  const buildCpu = process.cpuUsage();
  await buildHnswInWorker({ dim: DIM, count: N, vectors, capacity: Math.ceil(N * 1.1) + 1000, m: config.ANN_M, efConstruction: config.ANN_EF_CONSTRUCTION, file });
  const buildSeconds = (performance.now() - buildStarted) / 1000;
  const { user, system } = process.cpuUsage(buildCpu);
  const fileBytes = statSync(file).size;
  const loadStarted = performance.now();
  const index = new HierarchicalNSW('cosine', DIM);
  await index.readIndex(file);
  const loadSeconds = (performance.now() - loadStarted) / 1000;
  unlinkSync(file);
  log(
    `built in ${buildSeconds.toFixed(1)} s (${((user + system) / 1e6).toFixed(1)} s of CPU); index file ${mib(fileBytes)} MiB (${(fileBytes / N).toFixed(0)} bytes a video); ` +
      `loaded in ${loadSeconds.toFixed(1)} s; peak RSS of the process ${mib(process.resourceUsage().maxRSS * 1024)} MiB`,
  );

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

  // CPU time as well as wall time: on a shared machine the wall time includes time the thread was switched out.
  const rows = ['| ef | k | mean µs/query | p99 µs | CPU µs/query | recall@k |', '|---|---|---|---|---|---|'];
  for (const ef of [K, Math.round(K * 1.5), K * 2]) {
    index.setEf(ef);
    const times: number[] = [];
    let hits = 0;
    const cpuBefore = process.cpuUsage();
    queries.forEach((q, i) => {
      const started = performance.now();
      const { neighbors } = index.searchKnn(q, K);
      times.push((performance.now() - started) * 1000);
      hits += neighbors.filter((n) => truth[i].has(n)).length;
    });
    const cpu = process.cpuUsage(cpuBefore);
    times.sort((a, b) => a - b);
    const mean = times.reduce((a, b) => a + b, 0) / times.length;
    const cpuPerQuery = (cpu.user + cpu.system) / QUERIES;
    rows.push(`| ${ef} | ${K} | ${mean.toFixed(0)} | ${times[Math.floor(times.length * 0.99)].toFixed(0)} | ${cpuPerQuery.toFixed(0)} | ${(hits / (K * QUERIES)).toFixed(3)} |`);
  }
  log(`queries (${QUERIES}, single thread):\n\n${rows.join('\n')}\n`);
}

main().catch((err) => {
  process.stderr.write(`ann bench failed: ${(err as Error).stack}\n`);
  process.exit(1);
});
