import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { parseArgs } from 'node:util';
import { CoreModule } from '../app/core.module';
import { loadConfig } from '../config/app-config';
import { exitOnConfigError } from '../config/exit-on-config-error';
import { TrainingLogRepository } from './data/training-log.repository';
import { hoursCoveringLog } from './training-window';
import { TrainingModule } from './training.module';
import { NotEnoughDataError, TrainingService } from './training.service';

@Module({ imports: [CoreModule, TrainingModule] })
class TrainCommandModule {}

const USAGE = `usage: npm run train -- [--window-hours N] [--epochs N] [--no-promote]
Trains on the last N hours of the interaction log (ending at its newest event), registers
the model, and activates it when no model is active or when it beats the active one on
held-out NDCG@10. Without --window-hours: RETRAIN_WINDOW_HOURS if set, else a window
reaching back to the oldest logged impression (the whole log).`;

/** `npm run train`: one training run on the current database, then exit. */
async function main(): Promise<void> {
  exitOnConfigError(loadConfig);
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        'window-hours': { type: 'string' },
        epochs: { type: 'string' },
        'no-promote': { type: 'boolean', default: false },
        help: { type: 'boolean', default: false },
      },
      strict: true,
    }));
  } catch (err) {
    process.stderr.write(`train: ${(err as Error).message}\n${USAGE}\n`);
    process.exit(64);
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const windowHours = values['window-hours'] === undefined ? undefined : Number(values['window-hours']);
  const epochs = values.epochs === undefined ? undefined : Number(values.epochs);
  if ((windowHours !== undefined && !(windowHours > 0)) || (epochs !== undefined && !(Number.isInteger(epochs) && epochs > 0))) {
    process.stderr.write(`train: --window-hours must be > 0 and --epochs a positive integer\n${USAGE}\n`);
    process.exit(64);
  }

  const app = await NestFactory.createApplicationContext(TrainCommandModule, { logger: ['warn', 'error'] });
  const logs = app.get(TrainingLogRepository);
  const [firstImpressionAt, lastEventAt] = await Promise.all([logs.firstImpressionAt(), logs.lastEventAt()]);
  const covering = hoursCoveringLog(firstImpressionAt, lastEventAt);
  const fromEnv = process.env.RETRAIN_WINDOW_HOURS ? Number(process.env.RETRAIN_WINDOW_HOURS) : undefined;
  const window = windowHours ?? fromEnv ?? covering ?? undefined;
  if (window !== undefined && lastEventAt !== null) {
    const why = windowHours !== undefined ? '--window-hours' : fromEnv !== undefined ? 'RETRAIN_WINDOW_HOURS' : 'covers every logged impression';
    process.stdout.write(`train: window ${new Date(lastEventAt - window * 3_600_000).toISOString()} to ${new Date(lastEventAt).toISOString()} (${window} h, ${why})\n`);
  }
  try {
    const result = await app.get(TrainingService).run({
      windowHours: window,
      epochs,
      autoPromote: !values['no-promote'],
      onProgress: (stage) => void process.stdout.write(`train: ${stage}\n`),
    });
    const { model, popularity, previous } = result.metrics.ranking;
    const heads = Object.entries(result.metrics.heads)
      .map(([h, m]) => `${h} AUC ${m.auc?.toFixed(3) ?? 'n/a'}`)
      .join(', ');
    process.stdout.write(
      `model ${result.modelId}: ${heads}\n` +
        `held-out HR@10 ${model.hitRate?.toFixed(3)} NDCG@10 ${model.ndcg?.toFixed(3)} ` +
        `(popularity ${popularity.hitRate?.toFixed(3)} / ${popularity.ndcg?.toFixed(3)}` +
        `${previous ? `, active ${previous.modelId} ${previous.hitRate?.toFixed(3)} / ${previous.ndcg?.toFixed(3)}` : ''})\n` +
        `${result.decision}; took ${(result.timingsMs.total / 1000).toFixed(1)} s\n`,
    );
  } catch (err) {
    if (!(err instanceof NotEnoughDataError)) throw err;
    // Nothing to learn from yet (e.g. an empty database): the feed keeps its fallback ranking.
    const hint =
      covering !== null && window !== undefined && covering > window
        ? `; the log's impressions start ${new Date(firstImpressionAt!).toISOString()}: --window-hours ${covering} covers them all`
        : '';
    process.stdout.write(`train: skipped, ${err.message}${hint}\n`);
  } finally {
    await app.close();
  }
}

main().catch((err) => {
  process.stderr.write(`train failed: ${(err as Error).stack}\n`);
  process.exit(1);
});
