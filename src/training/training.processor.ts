import { Processor, WorkerHost } from '@nestjs/bullmq';
import { Logger } from '@nestjs/common';
import { Job, UnrecoverableError } from 'bullmq';
import { QueueName } from '../queue/queue.types';
import { TrainingJobData } from './training-jobs';
import { NotEnoughDataError, TrainingRunResult, TrainingService } from './training.service';

/** Runs training jobs in the worker, one at a time (the loop yields to the event loop, so other queues keep flowing). */
@Processor(QueueName.Training, { concurrency: 1, lockDuration: 120_000 })
export class TrainingProcessor extends WorkerHost {
  private readonly logger = new Logger(TrainingProcessor.name);

  constructor(private readonly training: TrainingService) {
    super();
  }

  async process(job: Job<TrainingJobData, TrainingRunResult>): Promise<TrainingRunResult> {
    this.logger.log(`training job ${job.id} (${job.data.trigger}) started`);
    try {
      return await this.training.run({
        windowHours: job.data.windowHours,
        autoPromote: job.data.autoPromote,
        onProgress: (stage, detail) => job.updateProgress({ stage, ...detail }),
      });
    } catch (err) {
      if (err instanceof NotEnoughDataError) throw new UnrecoverableError(err.message);
      throw err;
    }
  }
}
