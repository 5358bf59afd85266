import { Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { parseDuration } from '../common/duration';
import { TrainingQueueService } from './training-queue.service';

/**
 * When the worker starts: limits the training queue to one run at a time across all
 * workers, and keeps the retraining job scheduler in line with RETRAIN_EVERY /
 * RETRAIN_WINDOW_HOURS.
 */
@Injectable()
export class TrainingSchedulerService implements OnApplicationBootstrap {
  private readonly logger = new Logger(TrainingSchedulerService.name);

  constructor(
    private readonly config: AppConfig,
    private readonly queue: TrainingQueueService,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.queue.oneRunAtATime();
    const every = parseDuration(this.config.RETRAIN_EVERY);
    await this.queue.schedule(every, this.config.RETRAIN_WINDOW_HOURS);
    this.logger.log(
      every === null
        ? 'scheduled retraining is off'
        : `retraining every ${this.config.RETRAIN_EVERY} on the last ${this.config.RETRAIN_WINDOW_HOURS} h`,
    );
  }
}
