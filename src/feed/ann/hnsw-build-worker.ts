import { Worker } from 'node:worker_threads';

export interface HnswBuildJob {
  /** Distance: cosine (the taste embeddings) or inner product (the sequence model's scores); default cosine. */
  space?: 'cosine' | 'ip';
  dim: number;
  count: number;
  /** count * dim floats, row i = the vector of label i; transferred to the worker. */
  vectors: Float32Array;
  capacity: number;
  m: number;
  efConstruction: number;
  /** Where the worker writes the finished index. */
  file: string;
}

/*
 * Plain JavaScript so the worker runs the same from dist/ and under ts-jest; it only
 * needs hnswlib-node, whose resolved path is passed in.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { HierarchicalNSW } = require(workerData.hnswlibPath);
const { space, dim, count, vectors, capacity, m, efConstruction, file } = workerData.job;
const index = new HierarchicalNSW(space || 'cosine', dim);
index.initIndex({ maxElements: capacity, m, efConstruction, randomSeed: 100 });
const point = new Array(dim);
for (let i = 0; i < count; i++) {
  for (let d = 0; d < dim; d++) point[d] = vectors[i * dim + d];
  index.addPoint(point, i);
}
index.writeIndex(file).then(
  () => parentPort.postMessage({ ok: true }),
  (err) => parentPort.postMessage({ ok: false, error: String(err && err.message || err) }),
);
`;

/**
 * Builds an HNSW index on a worker thread (so the event loop keeps serving feeds)
 * and writes it to `job.file`, from where the caller loads it with readIndex.
 */
export function buildHnswInWorker(job: HnswBuildJob, onWorker?: (worker: Worker) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { hnswlibPath: require.resolve('hnswlib-node'), job },
      transferList: [job.vectors.buffer as ArrayBuffer],
    });
    onWorker?.(worker);
    let settled = false;
    worker.once('message', (msg: { ok: boolean; error?: string }) => {
      settled = true;
      void worker.terminate();
      if (msg.ok) resolve();
      else reject(new Error(msg.error));
    });
    worker.once('error', (err) => {
      settled = true;
      reject(err);
    });
    worker.once('exit', (code) => {
      if (!settled) reject(new Error(`index build worker exited with code ${code}`));
    });
  });
}
