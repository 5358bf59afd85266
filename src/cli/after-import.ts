import { INestApplicationContext } from '@nestjs/common';
import { ReplayService } from '../events/replay.service';
import { ImporterService } from '../importer/importer.service';
import { NotEnoughDataError, TrainingRunResult, TrainingService } from '../training/training.service';

const HOUR = 3_600_000;

export interface TrainOutcome {
  result: TrainingRunResult | null;
  /** Why no model was trained, when none was. */
  skipped: string | null;
  ms: number;
}

/** Rebuilds the online state in Redis from the log (as `npm run replay`). */
export async function replayLog(app: INestApplicationContext, print: (line: string) => void): Promise<void> {
  const report = await app.get(ReplayService).rebuild();
  print(`replay: ${report.events} events, ${report.users} users, ${report.videos} videos in ${(report.ms / 1000).toFixed(1)} s`);
}

/**
 * Trains on the whole imported history (as `npm run train`, window = the log's span unless
 * given). A log the trainer cannot learn from yet is reported, not an error: the feed keeps
 * its fallback ranking.
 */
export async function trainOnHistory(
  app: INestApplicationContext,
  print: (line: string) => void,
  windowHours?: number,
): Promise<TrainOutcome> {
  const started = Date.now();
  const span = await app.get(ImporterService).historySpan();
  const hours = windowHours ?? (span ? Math.ceil((span.to - span.from) / HOUR) + 1 : undefined);
  try {
    const result = await app.get(TrainingService).run({
      windowHours: hours,
      onProgress: (stage) => print(`train: ${stage}`),
    });
    const { model, popularity } = result.metrics.ranking;
    print(
      `train: model ${result.modelId} held-out HR@10 ${model.hitRate?.toFixed(3)} NDCG@10 ${model.ndcg?.toFixed(3)} ` +
        `(popularity ${popularity.hitRate?.toFixed(3)} / ${popularity.ndcg?.toFixed(3)}); ${result.decision}; ` +
        `${((Date.now() - started) / 1000).toFixed(1)} s`,
    );
    return { result, skipped: null, ms: Date.now() - started };
  } catch (err) {
    if (!(err instanceof NotEnoughDataError)) throw err;
    print(`train: skipped, ${err.message}`);
    return { result: null, skipped: err.message, ms: Date.now() - started };
  }
}
