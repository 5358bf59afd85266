import { InjectQueue } from '@nestjs/bullmq';
import { Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { Job, Queue } from 'bullmq';
import { AppConfig } from '../config/app-config';
import { QueueName } from '../queue/queue.types';
import { AppendLogJob } from './event-jobs';
import { PipelineMetrics } from './events.metrics';
import { InteractionLogRepository } from './interaction-log.repository';
import { QueueProcessor } from './queue-processor';

/** Consumes the interactions queue: appends applied events to the Postgres log. */
@Injectable()
export class AppendLogProcessor extends QueueProcessor<AppendLogJob> implements OnApplicationBootstrap {
  constructor(
    @InjectQueue(QueueName.Interactions) queue: Queue<AppendLogJob>,
    config: AppConfig,
    metrics: PipelineMetrics,
    private readonly log: InteractionLogRepository,
  ) {
    super(queue, config, metrics);
  }

  onApplicationBootstrap(): void {
    this.start();
  }

  protected async process(job: Job<AppendLogJob>): Promise<{ inserted: number }> {
    const inserted = await this.log.append(job.data.events);
    this.metrics.logged.inc(inserted);
    return { inserted };
  }
}
