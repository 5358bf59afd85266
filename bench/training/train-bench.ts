import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Pool } from 'pg';
import { DataSource } from 'typeorm';
import { CoreModule } from '../../src/app/core.module';
import { loadConfig } from '../../src/config/app-config';
import { dataSourceOptions } from '../../src/database/data-source-options';
import { ensureDatabase } from '../../src/database/ensure-database';
import { fitStandardizer, initMlp, trainMlp } from '../../src/training/model/mlp';
import { makeSyntheticData } from '../../src/training/model/synthetic-data';
import { TrainingModule } from '../../src/training/training.module';
import { TrainingService, TrainingStage } from '../../src/training/training.service';
import { parseSeedArgs } from '../../seed/seed-options';
import { writeWorld } from '../../seed/seed-writer';
import { buildWorld } from '../../seed/world';

@Module({ imports: [CoreModule, TrainingModule] })
class BenchModule {}

const log = (msg: string) => process.stdout.write(`${msg}\n`);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

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

/**
 * Time to build the point-in-time dataset, learn item embeddings, train, export and
 * evaluate on a seeded log, plus the quality figures. Seeds its own database first
 * (once; reruns reuse it).
 *
 *   node dist/bench/training/train-bench.js
 *   env: BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/reelrank_bench_models
 *        BENCH_USERS=10000 BENCH_VIDEOS=100000 BENCH_HISTORY=100 BENCH_WINDOW_HOURS=200
 */
async function main(): Promise<void> {
  const url = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/reelrank_bench_models';
  process.env.DATABASE_URL = url;
  process.env.REDIS_PREFIX = process.env.REDIS_PREFIX ?? 'rrbench-models';
  process.env.LOG_LEVEL = 'warn';
  const config = loadConfig();
  const seedArgs = ['--users', process.env.BENCH_USERS ?? '10000', '--videos', process.env.BENCH_VIDEOS ?? '100000', '--history', process.env.BENCH_HISTORY ?? '100'];
  const windowHours = Number(process.env.BENCH_WINDOW_HOURS ?? 200);

  await ensureDatabase(url);
  const db = await new DataSource(dataSourceOptions({ DATABASE_URL: url, DATABASE_POOL_SIZE: 2 })).initialize();
  let counts: { interactions: number; impressions: number };
  try {
    await db.runMigrations({ transaction: 'each' });
    const [existing] = await db.query(`SELECT count(*)::int AS n FROM interactions`);
    if (existing.n === 0) {
      log(`seeding ${seedArgs.join(' ')} into ${url} ...`);
      const started = Date.now();
      const pool = new Pool({ connectionString: url, max: 1 });
      try {
        await writeWorld(pool, buildWorld(parseSeedArgs(seedArgs, config.EMBEDDING_DIM)));
      } finally {
        await pool.end();
      }
      log(`seeded in ${((Date.now() - started) / 1000).toFixed(0)} s`);
    }
    [counts] = await db.query(
      `SELECT (SELECT count(*) FROM interactions)::int AS interactions, (SELECT count(*) FROM impressions)::int AS impressions`,
    );
  } finally {
    await db.destroy();
  }

  const calibrationBefore = calibrationSeconds();
  const ctx = await NestFactory.createApplicationContext(BenchModule, { logger: ['error', 'warn'] });
  let peakRss = 0;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 250);
  const stages: { stage: TrainingStage; at: number }[] = [];
  try {
    const started = Date.now();
    const result = await ctx.get(TrainingService).run({
      windowHours,
      autoPromote: false,
      onProgress: (stage) => void stages.push({ stage, at: Date.now() - started }),
    });
    clearInterval(sampler);
    const calibrationAfter = calibrationSeconds();
    const [row] = await ctx
      .get(DataSource)
      .query(`SELECT training_info FROM model_versions WHERE id = $1`, [result.modelId]);
    const info = row.training_info;
    const { heads, ranking, heldOut } = result.metrics;
    const summary = {
      log: counts,
      window: info.window,
      rows: { train: info.data.trainRows, heldOut: info.data.heldOutRows, unexposed: info.data.unexposed },
      epochs: { run: info.epochs, best: info.bestEpoch },
      embeddings: info.embeddings,
      secondsByStage: Object.fromEntries(Object.entries(result.timingsMs).map(([k, v]) => [k, +(v / 1000).toFixed(1)])),
      peakRssMb: Math.round(peakRss / 2 ** 20),
      calibrationEpochSeconds: { before: +calibrationBefore.toFixed(2), after: +calibrationAfter.toFixed(2) },
      onnxParityMaxAbsDiff: info.onnxParity.maxAbsDiff,
      heldOut,
      auc: Object.fromEntries(Object.entries(heads).map(([h, m]) => [h, +(m.auc ?? NaN).toFixed(3)])),
      logLoss: Object.fromEntries(Object.entries(heads).map(([h, m]) => [h, `${m.logLoss.toFixed(4)} (base rate ${m.baselineLogLoss.toFixed(4)})`])),
      ranking: {
        queries: ranking.queries,
        meanCandidates: +ranking.meanCandidates.toFixed(1),
        model: ranking.model,
        popularity: ranking.popularity,
        previous: ranking.previous ? { modelId: ranking.previous.modelId, hitRate: ranking.previous.hitRate, ndcg: ranking.previous.ndcg } : null,
      },
    };
    log(JSON.stringify(summary, null, 2));
  } finally {
    clearInterval(sampler);
    await ctx.close();
  }
}

main().catch((err) => {
  process.stderr.write(`train-bench failed: ${(err as Error).stack}\n`);
  process.exit(1);
});
