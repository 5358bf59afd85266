import 'reflect-metadata';
import { INestApplicationContext, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { DataSource } from 'typeorm';
import { CoreModule } from '../app/core.module';
import { CatalogSnapshotService } from '../catalog/catalog-snapshot.service';
import { AppConfig, loadConfig } from '../config/app-config';
import { applyTimestampWindow } from '../config/config.module';
import { exitOnConfigError } from '../config/exit-on-config-error';
import { dataSourceOptions } from '../database/data-source-options';
import { ensureDatabase } from '../database/ensure-database';
import { EventsModule } from '../events/events.module';
import { eventFileRows, videoFileRows } from '../importer/import-sources';
import { EventRecord, RowResult, VideoRecord } from '../importer/import-records';
import { BadRow, ImporterService, MostlyBadFileError, PhaseReport } from '../importer/importer.service';
import { ImporterModule } from '../importer/importer.module';
import { movieLensEvents, movieLensVideos } from '../importer/movielens';
import { TrainingModule } from '../training/training.module';
import { replayLog, trainOnHistory } from './after-import';
import { countLines, PhaseProgress, phaseLine, rate } from './import-progress';

@Module({ imports: [CoreModule, ImporterModule, EventsModule, TrainingModule] })
export class ImportCommandModule {}

const USAGE = `usage: npm run import -- [--videos FILE]... [--events FILE]... [options]
       npm run import -- --format movielens DIR [options]
Loads a catalog (--videos) and an interaction history (--events), JSONL or CSV by extension,
or a MovieLens directory (ratings.csv + movies.csv), then trains and rebuilds the online state.
  --no-replay          do not rebuild the Redis state from the log
  --no-train           do not train a model
  --window-hours N     training window (default: the whole history)
  --chunk N            events per transaction (default 50000)
  --show-bad N         bad rows printed per file (default 20; all are counted)`;

/** Bad rows shown per file before only counting them. */
function badRowPrinter(limit: number) {
  const shown = new Map<string, number>();
  return (bad: BadRow) => {
    const n = (shown.get(bad.file) ?? 0) + 1;
    shown.set(bad.file, n);
    if (n <= limit) process.stderr.write(`bad row ${bad.file}:${bad.line}: ${bad.reason}\n`);
    else if (n === limit + 1) process.stderr.write(`(more bad rows in ${bad.file} are counted, not shown)\n`);
  };
}

/** Checkpoint key of a history file: its path, size and modification time (a changed file starts over). */
async function sourceKey(file: string): Promise<string> {
  const s = await stat(file);
  return `${resolve(file)}|${s.size}|${Math.round(s.mtimeMs)}`;
}

/** Creates the database if needed and applies pending migrations, as `npm run db:create && npm run migrate` would. */
export async function prepareDatabase(config: AppConfig): Promise<void> {
  await ensureDatabase(config.DATABASE_URL);
  const ds = await new DataSource(dataSourceOptions({ ...config, DATABASE_POOL_SIZE: 1 })).initialize();
  try {
    await ds.runMigrations({ transaction: 'each' });
  } finally {
    await ds.destroy();
  }
}

interface Inputs {
  videos: { file: string; rows: () => AsyncIterable<RowResult<VideoRecord>> }[];
  events: { file: string; rows: () => AsyncIterable<RowResult<EventRecord>> }[];
}

function inputs(values: { videos?: string[]; events?: string[]; format?: string }, positionals: string[], now: number): Inputs {
  if (values.format === 'movielens') {
    const dir = positionals[0];
    if (!dir || positionals.length > 1) throw new Error('--format movielens takes one directory');
    return {
      videos: [{ file: `${dir}/movies.csv`, rows: () => movieLensVideos(dir) }],
      events: [{ file: `${dir}/ratings.csv`, rows: () => movieLensEvents(dir, now) }],
    };
  }
  if (values.format !== undefined) throw new Error(`unknown --format ${values.format} (only movielens; JSONL and CSV are told by extension)`);
  if (positionals.length > 0) throw new Error(`unexpected argument ${positionals[0]}`);
  const videos = (values.videos ?? []).map((file) => ({ file, rows: () => videoFileRows(file, now) }));
  const events = (values.events ?? []).map((file) => ({ file, rows: () => eventFileRows(file, now) }));
  if (videos.length + events.length === 0) throw new Error('nothing to import: give --videos, --events or --format movielens DIR');
  return { videos, events };
}

/** Runs the import phases in the app; returns the phase reports. */
export async function importFiles(
  app: INestApplicationContext,
  input: Inputs,
  options: { chunk?: number; showBad: number; print: (line: string) => void },
): Promise<PhaseReport[]> {
  const importer = app.get(ImporterService);
  const reports: PhaseReport[] = [];
  const onBadRow = badRowPrinter(options.showBad);
  const undated: string[] = [];
  for (const v of input.videos) {
    const progress = new PhaseProgress(`videos ${v.file.split('/').pop()}`, await countLines(v.file));
    try {
      const { report, undated: ids } = await importer.importVideos(v.file, v.rows(), { onBadRow, progress });
      undated.push(...ids);
      reports.push(report);
    } finally {
      progress.stop();
    }
    options.print(phaseLine(reports[reports.length - 1]));
  }
  if (input.videos.length > 0) {
    // This process's snapshot serves the replay; the message reaches every running api and worker.
    const catalog = app.get(CatalogSnapshotService);
    await catalog.reloadAll();
    await catalog.publishChange({ all: true });
  }
  const knownVideos = await importer.videoIds();
  for (const e of input.events) {
    const progress = new PhaseProgress(`events ${e.file.split('/').pop()}`, await countLines(e.file));
    try {
      reports.push(
        await importer.importEvents(e.file, e.rows(), {
          source: await sourceKey(e.file),
          knownVideos,
          chunkSize: options.chunk,
          onBadRow,
          progress,
        }),
      );
    } finally {
      progress.stop();
    }
    options.print(phaseLine(reports[reports.length - 1]));
  }
  if (undated.length > 0) {
    const dated = await importer.datedFromFirstEvent(undated);
    options.print(`videos: ${dated} of ${undated.length} without a created time now date from their first event`);
  }
  return reports;
}

async function main(): Promise<void> {
  const config = exitOnConfigError(loadConfig);
  applyTimestampWindow(config);
  let parsed;
  try {
    parsed = parseArgs({
      options: {
        videos: { type: 'string', multiple: true },
        events: { type: 'string', multiple: true },
        format: { type: 'string' },
        'no-replay': { type: 'boolean', default: false },
        'no-train': { type: 'boolean', default: false },
        'window-hours': { type: 'string' },
        chunk: { type: 'string' },
        'show-bad': { type: 'string' },
        help: { type: 'boolean', default: false },
      },
      allowPositionals: true,
      strict: true,
    });
  } catch (err) {
    process.stderr.write(`import: ${(err as Error).message}\n${USAGE}\n`);
    process.exit(64);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const windowHours = values['window-hours'] === undefined ? undefined : Number(values['window-hours']);
  const chunk = values.chunk === undefined ? undefined : Number(values.chunk);
  const showBad = values['show-bad'] === undefined ? 20 : Number(values['show-bad']);
  let input: Inputs;
  try {
    if ((windowHours !== undefined && !(windowHours > 0)) || (chunk !== undefined && !(Number.isInteger(chunk) && chunk > 0)) || !(showBad >= 0)) {
      throw new Error('--window-hours must be > 0, --chunk a positive integer and --show-bad >= 0');
    }
    input = inputs(values, positionals, Date.now());
    for (const f of [...input.videos, ...input.events]) await stat(f.file);
  } catch (err) {
    process.stderr.write(`import: ${(err as Error).message}\n${USAGE}\n`);
    process.exit(64);
  }

  const started = Date.now();
  const print = (line: string) => void process.stdout.write(`${line}\n`);
  await prepareDatabase(config);
  const app = await NestFactory.createApplicationContext(ImportCommandModule, { logger: ['warn', 'error'] });
  try {
    const reports = await importFiles(app, input, { chunk, showBad, print });
    // Training first: the replay then builds users' online embeddings from the video vectors it learned.
    const trained = values['no-train'] ? null : await trainOnHistory(app, print, windowHours);
    if (!values['no-replay']) await replayLog(app, print);
    const events = reports.filter((r) => r.phase === 'events');
    const eventMs = events.reduce((s, r) => s + r.ms, 0);
    const total = (key: 'records' | 'written' | 'bad', phase: PhaseReport['phase']) =>
      reports.filter((r) => r.phase === phase).reduce((s, r) => s + r[key], 0);
    print(
      `import done in ${((Date.now() - started) / 1000).toFixed(1)} s: ` +
        `videos ${total('records', 'videos')} (${total('written', 'videos')} new), ` +
        `events ${total('records', 'events')} (${total('written', 'events')} new, ${rate(total('records', 'events'), eventMs)}), ` +
        `bad rows ${total('bad', 'videos') + total('bad', 'events')}` +
        (values['no-replay'] ? '; replay skipped' : '') +
        (trained === null ? '; training skipped' : trained.result ? `; model ${trained.result.modelId} ${trained.result.promoted ? 'active' : 'not activated'}` : '; no model trained'),
    );
  } catch (err) {
    if (!(err instanceof MostlyBadFileError)) throw err;
    process.stderr.write(`import stopped: ${err.message}\n`);
    process.exitCode = 65;
  } finally {
    await app.close();
  }
}

if (require.main === module) {
  main().catch((err) => {
    process.stderr.write(`import failed: ${(err as Error).stack}\n`);
    process.exit(1);
  });
}
