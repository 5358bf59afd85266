import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import Redis from 'ioredis';
import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { createApiApp } from '../src/app/create-api-app';
import { CatalogSnapshotService } from '../src/catalog/catalog-snapshot.service';
import { AppConfig, loadConfig } from '../src/config/app-config';
import { applyTimestampWindow } from '../src/config/config.module';
import { exitOnConfigError } from '../src/config/exit-on-config-error';
import { dropDatabase } from '../src/database/ensure-database';
import { EaseRecommender } from './evaluation/ease';
import { FeedProbe } from './evaluation/feed-probe';
import { FeatureClock } from '../src/features/feature-clock';
import { ItemKnnRecommender } from './evaluation/item-knn';
import { dateFromTraining, leaveLastOut, Split } from './evaluation/leave-last-out';
import { PopularityRecommender } from './evaluation/popularity';
import { quantile, RankingTally } from './evaluation/ranking-tally';
import { BaselineRecommender, TrainingMatrix } from './evaluation/training-matrix';
import { eventFileRows, videoFileRows } from '../src/importer/import-sources';
import { EventRecord, RowResult, VideoRecord } from '../src/importer/import-records';
import { ImporterService } from '../src/importer/importer.service';
import { movieLensEvents, movieLensVideos } from '../src/importer/movielens';
import { replayLog, trainOnHistory } from '../src/cli/after-import';
import { ImportCommandModule, prepareDatabase } from '../src/cli/import';

const USAGE = `usage: npm run evaluate -- --format movielens DIR [options]
       npm run evaluate -- --videos FILE --events FILE [options]
Leave-last-out evaluation of the real serving path: each user's last positive event is
held out, everything else is imported into a fresh database (dropped at the end), replayed
and trained on, and each evaluated user's first feed page of 10 is compared with the held-out
video, beside popularity, item-kNN, recency-weighted item-kNN and EASE on the same split.
  --every N            evaluate every N-th eligible user (default 1)
  --limit-users N      at most N users
  --out FILE           write the results as JSON
  --keep               keep the temporary database and Redis keys (their names are printed)
  --no-train           evaluate the feed without training a model
  --knn-neighbours N   item-kNN neighbours (default 50)
  --recency-decay X    weight of the k-th most recent history item is X^k (default 0.7)
  --ease-lambda X      EASE regularisation (default 500)
  --ease-items N       EASE models the N most popular items (default 3000)`;

const K = 10;

interface Row {
  name: string;
  users: number;
  hitRate: number;
  ndcg: number;
  coverage: number;
  p50Ms?: number;
  p99Ms?: number;
  note?: string;
}

function withDatabase(url: string, name: string): string {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

async function collect<T>(rows: AsyncIterable<RowResult<T>>, bad: { count: number }, out: T[]): Promise<void> {
  for await (const row of rows) {
    if ('error' in row) {
      bad.count++;
      if (bad.count <= 20) process.stderr.write(`bad row ${row.file}:${row.line}: ${row.error}\n`);
    } else for (const r of row.records) out.push(r);
  }
}

async function* asRows<T>(file: string, records: readonly T[]): AsyncIterable<RowResult<T>> {
  for (let i = 0; i < records.length; i++) yield { file, line: i + 1, records: [records[i]] };
}

/** A busy server can miss the connect timeout once. */
async function retry(work: () => Promise<void>, attempts = 3): Promise<void> {
  for (let i = 1; ; i++) {
    try {
      return await work();
    } catch (err) {
      if (i >= attempts) throw err;
      await new Promise((r) => setTimeout(r, 1000 * i));
    }
  }
}

async function clearRedisPrefix(config: AppConfig): Promise<void> {
  const redis = new Redis(config.REDIS_URL, { lazyConnect: true });
  await redis.connect();
  try {
    for (const pattern of [`${config.REDIS_PREFIX}:*`, `{${config.REDIS_PREFIX}:*`]) {
      let cursor = '0';
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
        cursor = next;
        if (keys.length) await redis.unlink(...keys);
      } while (cursor !== '0');
    }
  } finally {
    redis.disconnect();
  }
}

function table(rows: Row[]): string {
  const head = ['', 'HR@10', 'NDCG@10', 'coverage', 'p50 ms', 'p99 ms'];
  const lines = rows.map((r) => [
    r.name,
    r.hitRate.toFixed(4),
    r.ndcg.toFixed(4),
    r.coverage.toFixed(4),
    r.p50Ms === undefined ? '' : r.p50Ms.toFixed(1),
    r.p99Ms === undefined ? '' : r.p99Ms.toFixed(1),
  ]);
  const widths = head.map((h, c) => Math.max(h.length, ...lines.map((l) => l[c].length)));
  const fmt = (cells: string[]) => cells.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  ');
  return [fmt(head), ...lines.map(fmt)].join('\n');
}

/** Evaluated users: every `every`-th eligible user in id order, at most `limit`. */
export function chooseUsers(split: Split, every: number, limit: number): string[] {
  const users = [...split.heldOut.keys()].sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
  return users.filter((_, i) => i % every === 0).slice(0, limit);
}

export function evaluateBaselines(
  split: Split,
  users: string[],
  catalogSize: number,
  options: { neighbours: number; decay: number; lambda: number; easeItems: number },
  print: (line: string) => void,
): Row[] {
  const matrix = new TrainingMatrix(split.train);
  const build: [string, () => BaselineRecommender][] = [
    ['popularity', () => new PopularityRecommender(matrix)],
    ['item-knn', () => new ItemKnnRecommender(matrix, { neighbours: options.neighbours, decay: 1 })],
    [`item-knn recency ${options.decay}`, () => new ItemKnnRecommender(matrix, { neighbours: options.neighbours, decay: options.decay })],
    ['EASE', () => new EaseRecommender(matrix, { lambda: options.lambda, maxItems: options.easeItems })],
  ];
  return build.map(([label, make]) => {
    const started = Date.now();
    const recommender = make();
    const tally = new RankingTally(K);
    for (const user of users) tally.add(recommender.recommend(user, K), split.heldOut.get(user)!);
    const note =
      recommender instanceof EaseRecommender && recommender.items.length < matrix.itemCount
        ? `${recommender.items.length} most popular of ${matrix.itemCount} items`
        : undefined;
    print(`baseline ${label}: ${((Date.now() - started) / 1000).toFixed(1)} s`);
    return { name: label, ...tally.result(catalogSize), note };
  });
}

async function main(): Promise<void> {
  const base = exitOnConfigError(loadConfig);
  applyTimestampWindow(base);
  let parsed;
  try {
    parsed = parseArgs({
      options: {
        format: { type: 'string' },
        videos: { type: 'string', multiple: true },
        events: { type: 'string', multiple: true },
        every: { type: 'string', default: '1' },
        'limit-users': { type: 'string' },
        out: { type: 'string' },
        keep: { type: 'boolean', default: false },
        'no-train': { type: 'boolean', default: false },
        'knn-neighbours': { type: 'string', default: '50' },
        'recency-decay': { type: 'string', default: '0.7' },
        'ease-lambda': { type: 'string', default: '500' },
        'ease-items': { type: 'string', default: '3000' },
        help: { type: 'boolean', default: false },
      },
      allowPositionals: true,
      strict: true,
    });
  } catch (err) {
    process.stderr.write(`evaluate: ${(err as Error).message}\n${USAGE}\n`);
    process.exit(64);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const every = Number(values.every);
  const limit = values['limit-users'] === undefined ? Infinity : Number(values['limit-users']);
  const neighbours = Number(values['knn-neighbours']);
  const decay = Number(values['recency-decay']);
  const lambda = Number(values['ease-lambda']);
  const easeItems = Number(values['ease-items']);
  const now = Date.now();
  let videoSources: AsyncIterable<RowResult<VideoRecord>>[];
  let eventSources: AsyncIterable<RowResult<EventRecord>>[];
  try {
    if (![every, neighbours, easeItems].every((n) => Number.isInteger(n) && n > 0) || !(limit > 0) || !(decay > 0 && decay <= 1) || !(lambda > 0)) {
      throw new Error('--every, --limit-users, --knn-neighbours and --ease-items must be positive integers, --recency-decay in (0, 1], --ease-lambda > 0');
    }
    if (values.format === 'movielens') {
      if (positionals.length !== 1) throw new Error('--format movielens takes one directory');
      videoSources = [movieLensVideos(positionals[0])];
      eventSources = [movieLensEvents(positionals[0], now)];
    } else if (values.format !== undefined) {
      throw new Error(`unknown --format ${values.format}`);
    } else {
      if (!values.videos?.length || !values.events?.length || positionals.length) throw new Error('give --videos and --events files, or --format movielens DIR');
      videoSources = values.videos.map((f) => videoFileRows(f, now));
      eventSources = values.events.map((f) => eventFileRows(f, now));
    }
  } catch (err) {
    process.stderr.write(`evaluate: ${(err as Error).message}\n${USAGE}\n`);
    process.exit(64);
  }

  const print = (line: string) => void process.stdout.write(`${line}\n`);
  const bad = { count: 0 };
  const videos: VideoRecord[] = [];
  for (const s of videoSources) await collect(s, bad, videos);
  const events: EventRecord[] = [];
  for (const s of eventSources) await collect(s, bad, events);
  const split = leaveLastOut(events);
  const users = chooseUsers(split, every, limit);
  dateFromTraining(videos, split.train);
  print(
    `dataset: ${videos.length} videos, ${events.length} events (${bad.count} bad rows skipped); ` +
      `${split.heldOut.size} users with a held-out video, ${users.length} evaluated; ${split.train.length} training events`,
  );

  // A fresh database and Redis prefix: the configured ones are never touched.
  const name = `reelrank_eval_${Date.now()}_${process.pid}`;
  process.env.DATABASE_URL = withDatabase(base.DATABASE_URL, name);
  process.env.REDIS_PREFIX = `rreval${process.pid}`;
  process.env.RETRAIN_EVERY = 'off';
  process.env.DRIFT_CHECK_EVERY = 'off';
  process.env.THROTTLE_ENABLED = 'false';
  process.env.LOG_LEVEL = process.env.LOG_LEVEL || 'warn';
  const config = loadConfig();
  print(`evaluation database ${name}, Redis prefix ${config.REDIS_PREFIX}`);
  const started = Date.now();
  let trainNote: string | null = null;
  let modelId: string | null = null;
  const latencies: number[] = [];
  const feedTally = new RankingTally(K);
  try {
    await prepareDatabase(config);
    const ctx = await NestFactory.createApplicationContext(ImportCommandModule, { logger: ['error'] });
    try {
      const importer = ctx.get(ImporterService);
      await importer.importVideos('catalog', asRows('catalog', videos));
      const catalog = ctx.get(CatalogSnapshotService);
      await catalog.reloadAll();
      const report = await importer.importEvents('training events', asRows('training events', split.train), {
        source: null,
        knownVideos: await importer.videoIds(),
      });
      print(`import: ${report.written} events in ${(report.ms / 1000).toFixed(1)} s (${report.bad} rejected)`);
      if (values['no-train']) trainNote = 'not trained (--no-train)';
      else {
        const trained = await trainOnHistory(ctx, print);
        modelId = trained.result?.promoted ? trained.result.modelId : null;
        if (trained.skipped) trainNote = `no model: ${trained.skipped}`;
        else if (!trained.result?.promoted) trainNote = `model ${trained.result?.modelId} not activated (${trained.result?.decision})`;
      }
      // As the import command: after training, so users' online embeddings come from the learned video vectors.
      await replayLog(ctx, print);
    } finally {
      await ctx.close();
    }

    const app: NestFastifyApplication = await createApiApp({ logger: false });
    try {
      await app.init();
      await app.getHttpAdapter().getInstance().ready();
      const clock = app.get(FeatureClock);
      const probe = new FeedProbe(app);
      const annReady = await probe.ready();
      print(`feed: api ready (nearest-neighbour index ${annReady ? 'built' : 'unavailable'}), ${users.length} first pages`);
      for (const user of users) {
        // Asked as of just before the held-out event, not years later: ages, decays and releases as they were then.
        clock.pinTo(split.heldOutAt.get(user)! - 1);
        const page = await probe.firstPage(user, K);
        latencies.push(page.ms);
        feedTally.add(page.videoIds, split.heldOut.get(user)!);
      }
    } finally {
      await app.close();
    }
  } finally {
    if (values.keep) print(`kept database ${name} and Redis prefix ${config.REDIS_PREFIX}`);
    else {
      await retry(() => dropDatabase(config.DATABASE_URL)).catch((err) => process.stderr.write(`could not drop ${name}: ${(err as Error).message}\n`));
      await retry(() => clearRedisPrefix(config)).catch((err) => process.stderr.write(`could not clear Redis: ${(err as Error).message}\n`));
    }
  }

  const catalogSize = videos.length;
  const rows: Row[] = [
    {
      name: 'reelrank feed',
      ...feedTally.result(catalogSize),
      p50Ms: quantile(latencies, 0.5),
      p99Ms: quantile(latencies, 0.99),
      note: modelId ? `model ${modelId}` : (trainNote ?? 'heuristic ranker'),
    },
    ...evaluateBaselines(split, users, catalogSize, { neighbours, decay, lambda, easeItems }, print),
  ];
  print('');
  print(table(rows));
  for (const r of rows) if (r.note) print(`  ${r.name}: ${r.note}`);
  print(`(leave-last-out, ${users.length} users, first page of ${K}; ${((Date.now() - started) / 1000).toFixed(0)} s)`);
  if (values.out) {
    const result = {
      k: K,
      users: users.length,
      heldOutUsers: split.heldOut.size,
      trainingEvents: split.train.length,
      catalog: catalogSize,
      badRows: bad.count,
      options: { every, limitUsers: Number.isFinite(limit) ? limit : null, neighbours, recencyDecay: decay, easeLambda: lambda, easeItems },
      results: rows,
    };
    await writeFile(values.out, JSON.stringify(result, null, 2));
    print(`wrote ${values.out}`);
  }
}

if (require.main === module) {
  main().then(
    () => process.exit(0),
    (err) => {
      process.stderr.write(`evaluate failed: ${(err as Error).stack}\n`);
      process.exit(1);
    },
  );
}
