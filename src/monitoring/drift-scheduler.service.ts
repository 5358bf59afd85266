import { InjectQueue } from '@nestjs/bullmq';
import { Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import type { Queue } from 'bullmq';
import { parseDuration } from '../common/duration';
import { AppConfig } from '../config/app-config';
import { QueueName } from '../queue/queue.types';
import { DRIFT_CHECK_JOB } from './drift-check.processor';

const SCHEDULER_ID = 'drift-check';

/**
 * Keeps one repeatable drift-check job on the monitoring queue, every DRIFT_CHECK_EVERY
 * (upserted at worker start, so several workers share one schedule; `off` removes it).
 */
@Injectable()
export class DriftSchedulerService implements OnApplicationBootstrap {
  private readonly logger = new Logger(DriftSchedulerService.name);

  constructor(
    private readonly config: AppConfig,
    @InjectQueue(QueueName.Monitoring) private readonly queue: Queue,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const every = parseDuration(this.config.DRIFT_CHECK_EVERY);
    if (every === null) {
      await this.queue.removeJobScheduler(SCHEDULER_ID);
      this.logger.log('drift checks off (DRIFT_CHECK_EVERY=off)');
      return;
    }
    await this.queue.upsertJobScheduler(
      SCHEDULER_ID,
      { every },
      { name: DRIFT_CHECK_JOB, opts: { removeOnComplete: 100, removeOnFail: 100 } },
    );
    this.logger.log(`drift check every ${this.config.DRIFT_CHECK_EVERY}`);
  }
}
