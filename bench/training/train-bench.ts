import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { spawnSync } from 'node:child_process';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { DataSource } from 'typeorm';
import { benchConfig, withDatabase } from '../bench-env';
import { CoreModule } from '../../src/app/core.module';
import { dataSourceOptions } from '../../src/database/data-source-options';
import { ensureDatabase } from '../../src/database/ensure-database';
import { fitStandardizer, initMlp, trainMlp } from '../../src/training/model/mlp';
import { makeSyntheticData } from '../../src/training/model/synthetic-data';
import { TrainingModule } from '../../src/training/training.module';
import { TrainingRunResult, TrainingService } from '../../src/training/training.service';

@Module({ imports: [CoreModule, TrainingModule] })
class BenchModule {}

/** The repository root (this file runs from dist/bench/training). */
const ROOT = join(__dirname, '../../..');
const HOUR = 3_600_000;
const log = (msg: string) => process.stdout.write(`${msg}\n`);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const load = () => loadavg().map((x) => x.toFixed(2)).join(' ');
const secs = (ms: number) => (ms / 1000).toFixed(1);
const f3 = (v: number | null | undefined) => (v === null || v === undefined ? 'n/a' : v.toFixed(3));
const f4 = (v: number | null | undefined) => (v === null || v === undefined ? 'n/a' : v.toFixed(4));

/** The phases of a run as TrainingService times them, in order, with what each covers. */
const PHASES: [key: string, label: string][] = [
  ['load', 'read the log (keyset pages of interactions, impressions, catalog, follows)'],
  ['embeddings', 'item embeddings: implicit ALS at each refresh point of the training part'],
  ['dataset', 'point-in-time dataset (log replay, features, labels, ranking queries)'],
  ['train', 'ranker training (MLP, Adam, early stopping)'],
  ['export', 'ONNX export + parity check in onnxruntime'],
  ['evaluate', 'evaluation (AUC/log loss per head; HR/NDCG@10 vs popularity and the previous model)'],
  ['servingEmbeddings', 'item embeddings for serving: ALS on the whole window'],
  ['embeddingsWrite', 'write learned embeddings to videos, announce the catalog reload'],
  ['register', 'register the version (artifact, spec, metrics, training info)'],
];

/**
 * Fixed CPU work measured in the same run (the "how busy is this machine" baseline):
 * one epoch of the MLP trainer on 100k synthetic rows x 23 features, median of 3.
 */
function calibrationSeconds(): number {
  const data = makeSyntheticData(100_000, 23, 4, 1);
  const norm = fitStandardizer(data.x, data.rows, data.dim);
  const runs: number[] = [];
  for (let i = 0; i < 3; i++) {
    const w = initMlp(23, [64, 32], ['a', 'b', 'c', 'd'], i);
    const started = process.hrtime.bigint();
    trainMlp(w, data, { epochs: 1, batchSize: 256, learningRate: 0.002, seed: i, norm });
    runs.push(Number(process.hrtime.bigint() - started) / 1e9);
  }
  return median(runs);
}

/** Seeds the benchmark database with the seed CLI in its own process (so its memory is not counted here). */
function seed(url: string, args: string[]): void {
  log(`seeding ${args.join(' ')} into ${url} ...`);
  const started = Date.now();
  const done = spawnSync(process.execPath, [join(ROOT, 'dist/seed/seed.js'), ...args], {
    env: { ...process.env, DATABASE_URL: url },
    stdio: 'inherit',
  });
  if (done.status !== 0) throw new Error(`seeding failed with exit code ${done.status}`);
  log(`seeded in ${secs(Date.now() - started)} s`);
}

/**
 * Peak RSS while `fn` runs, sampled every 100 ms (the training loops yield to the event
 * loop every ~20 ms), and the event-loop delay meanwhile: training runs inside the
 * worker, so its longest stretch without yielding is how long event jobs can wait on it.
 */
async function measured<T>(fn: () => Promise<T>): Promise<{ value: T; peakRssMb: number; loopDelayMs: { p99: number; max: number } }> {
  let peak = process.memoryUsage().rss;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 100);
  const delay = monitorEventLoopDelay({ resolution: 10 });
  delay.enable();
  try {
    const value = await fn();
    delay.disable();
    return {
      value,
      peakRssMb: Math.round(Math.max(peak, process.memoryUsage().rss) / 2 ** 20),
      loopDelayMs: { p99: Math.round(delay.percentile(99) / 1e6), max: Math.round(delay.max / 1e6) },
    };
  } finally {
    delay.disable();
    clearInterval(sampler);
  }
}

/**
 * Time to train and export on a seeded log of ~1M interactions, phase by phase, with
 * the quality figures and peak memory. Seeds its own database first (once; reruns
 * reuse it) and ANALYZEs it, as a database that has been running would be. When no
 * model is active it first trains the "previous" model on the log as it was
 * BENCH_PREVIOUS_HOURS earlier (activated, as a deployment would have it), so the
 * measured run is compared with it as well as with popularity; the measured run
 * registers a candidate and leaves the active model alone, so reruns compare alike.
 *
 *   npm run build && npm run bench:training
 *   env: BENCH_DATABASE_URL (default: DATABASE_URL's server, database reelrank_bench_training); REDIS_URL as for the app
 *        BENCH_USERS=12000 BENCH_VIDEOS=100000 BENCH_HISTORY=40 BENCH_WINDOW_HOURS=200 BENCH_PREVIOUS_HOURS=24
 */
async function main(): Promise<void> {
  const url = process.env.BENCH_DATABASE_URL ?? withDatabase(benchConfig().DATABASE_URL, 'reelrank_bench_training');
  process.env.DATABASE_URL = url;
  process.env.REDIS_PREFIX = process.env.REDIS_PREFIX ?? 'rrbench-training';
  process.env.LOG_LEVEL = 'warn';
  const seedArgs = [
    '--users', process.env.BENCH_USERS ?? '12000',
    '--videos', process.env.BENCH_VIDEOS ?? '100000',
    '--history', process.env.BENCH_HISTORY ?? '40',
  ];
  const windowHours = Number(process.env.BENCH_WINDOW_HOURS ?? 200);
  const previousHours = Number(process.env.BENCH_PREVIOUS_HOURS ?? 24);

  await ensureDatabase(url);
  const db = await new DataSource(dataSourceOptions({ DATABASE_URL: url, DATABASE_POOL_SIZE: 2 })).initialize();
  let counts: Record<string, number>;
  try {
    await db.runMigrations({ transaction: 'each' });
    const [existing] = await db.query(`SELECT count(*)::int AS n FROM interactions`);
    if (existing.n === 0) {
      seed(url, seedArgs);
      // Fresh COPY-loaded tables have no statistics: the keyset page queries would be planned blind.
      await db.query('ANALYZE');
    }
    [counts] = await db.query(
      `SELECT (SELECT count(*) FROM interactions)::int AS interactions, (SELECT count(*) FROM impressions)::int AS impressions,
              (SELECT count(*) FROM users)::int AS users, (SELECT count(*) FROM videos)::int AS videos`,
    );
  } finally {
    await db.destroy();
  }
  const n = (k: string) => counts[k].toLocaleString('en');
  log(`log: ${n('interactions')} interactions, ${n('impressions')} impressions, ${n('users')} users, ${n('videos')} videos; load average ${load()}`);

  const calibrationBefore = calibrationSeconds();
  const ctx = await NestFactory.createApplicationContext(BenchModule, { logger: ['error', 'warn'] });
  try {
    const training = ctx.get(TrainingService);
    const dataSource = ctx.get(DataSource);
    const [active] = await dataSource.query(`SELECT id FROM model_versions WHERE status = 'active'`);
    if (!active) {
      const [head] = await dataSource.query(`SELECT (extract(epoch FROM max(occurred_at)) * 1000)::float8 AS at FROM interactions`);
      log(`no active model: training the previous model on the log up to ${previousHours} h before its end ...`);
      const previous = await training.run({ windowHours, until: head.at - previousHours * HOUR, autoPromote: true });
      log(`previous model ${previous.modelId} in ${secs(previous.timingsMs.total)} s: ${previous.decision}`);
    }

    log(`measured run: window ${windowHours} h; load average ${load()}`);
    const loadBefore = load();
    const { value: result, peakRssMb, loopDelayMs } = await measured(() => training.run({ windowHours, autoPromote: false }));
    const loadAfter = load();
    const calibrationAfter = calibrationSeconds();
    const [row] = await dataSource.query(`SELECT training_info FROM model_versions WHERE id = $1`, [result.modelId]);
    report(result, row.training_info, { counts, peakRssMb, loopDelayMs, calibrationBefore, calibrationAfter, loadBefore, loadAfter, seedArgs });
  } finally {
    await ctx.close();
  }
}

interface RunContext {
  counts: Record<string, number>;
  peakRssMb: number;
  loopDelayMs: { p99: number; max: number };
  calibrationBefore: number;
  calibrationAfter: number;
  loadBefore: string;
  loadAfter: string;
  seedArgs: string[];
}

/** Training info as stored in model_versions.training_info (the fields read here). */
interface StoredTrainingInfo {
  window: Record<string, unknown>;
  data: { trainRows: number; heldOutRows: number; unexposed: number; loggedFeatureRows: number };
  epochs: number;
  bestEpoch: number;
  embeddings: Record<string, unknown>;
  onnxParity: { rows: number; maxAbsDiff: number };
}

function report(result: TrainingRunResult, info: StoredTrainingInfo, run: RunContext): void {
  const t = result.timingsMs;
  log('');
  log(`phase timings (s), model ${result.modelId}:`);
  for (const [key, label] of PHASES) log(`  ${key.padEnd(18)} ${secs(t[key] ?? 0).padStart(7)}  ${label}`);
  log(`  ${'total'.padEnd(18)} ${secs(t.total).padStart(7)}`);

  const { heads, ranking, heldOut } = result.metrics;
  log('');
  log(`held-out rows: ${heldOut.rows.toLocaleString('en')} (${heldOut.from} .. ${heldOut.to}); ONNX parity max |diff| ${info.onnxParity.maxAbsDiff.toExponential(1)} on ${info.onnxParity.rows} rows`);
  log(`  head       AUC     log loss  (base rate)  positives`);
  for (const [head, m] of Object.entries(heads)) {
    log(`  ${head.padEnd(9)} ${f3(m.auc).padStart(5)}   ${f4(m.logLoss).padStart(8)}  (${f4(m.baselineLogLoss)})   ${(m.positiveRate * 100).toFixed(1)}%`);
  }
  log(`ranking: ${ranking.queries} held-out users, ${ranking.meanCandidates.toFixed(1)} candidates each`);
  log(`  new model     HR@10 ${f3(ranking.model.hitRate)}  NDCG@10 ${f3(ranking.model.ndcg)}`);
  log(`  popularity    HR@10 ${f3(ranking.popularity.hitRate)}  NDCG@10 ${f3(ranking.popularity.ndcg)}`);
  if (ranking.previous) {
    log(`  previous      HR@10 ${f3(ranking.previous.hitRate)}  NDCG@10 ${f3(ranking.previous.ndcg)}  (${ranking.previous.modelId})`);
  }
  log('');
  log(`event-loop delay during the run: p99 ${run.loopDelayMs.p99} ms, max ${run.loopDelayMs.max} ms`);
  log(`peak RSS during the run ${run.peakRssMb} MB; calibration epoch ${run.calibrationBefore.toFixed(2)} s before, ${run.calibrationAfter.toFixed(2)} s after`);
  log(`load average before ${run.loadBefore}, after ${run.loadAfter}`);

  const summary = {
    seed: run.seedArgs.join(' '),
    log: run.counts,
    window: info.window,
    rows: { train: info.data.trainRows, heldOut: info.data.heldOutRows, unexposed: info.data.unexposed, loggedFeatureRows: info.data.loggedFeatureRows },
    epochs: { run: info.epochs, best: info.bestEpoch },
    embeddings: info.embeddings,
    secondsByPhase: Object.fromEntries(Object.entries(t).map(([k, v]) => [k, +(v / 1000).toFixed(1)])),
    peakRssMb: run.peakRssMb,
    eventLoopDelayMs: run.loopDelayMs,
    calibrationEpochSeconds: { before: +run.calibrationBefore.toFixed(2), after: +run.calibrationAfter.toFixed(2) },
    loadAverage: { before: run.loadBefore, after: run.loadAfter },
    onnxParity: info.onnxParity,
    heldOut,
    heads,
    ranking: {
      queries: ranking.queries,
      meanCandidates: +ranking.meanCandidates.toFixed(1),
      model: ranking.model,
      popularity: ranking.popularity,
      previous: ranking.previous ? { modelId: ranking.previous.modelId, hitRate: ranking.previous.hitRate, ndcg: ranking.previous.ndcg } : null,
    },
    decision: result.decision,
  };
  log('');
  log(JSON.stringify(summary, null, 2));
}

main().catch((err) => {
  process.stderr.write(`train-bench failed: ${(err as Error).stack}\n`);
  process.exit(1);
});
