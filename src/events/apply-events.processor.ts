import { InjectQueue } from '@nestjs/bullmq';
import { Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { Job, Queue } from 'bullmq';
import { CatalogSnapshotService } from '../catalog/catalog-snapshot.service';
import { AppConfig } from '../config/app-config';
import { QueueName } from '../queue/queue.types';
import { EventApplierService } from './event-applier.service';
import { ApplyEventsJob } from './event-jobs';
import { PipelineMetrics } from './events.metrics';
import { QueueProcessor } from './queue-processor';

/** Consumes the events queue: each job is a small batch of one user's accepted events. */
@Injectable()
export class ApplyEventsProcessor extends QueueProcessor<ApplyEventsJob> implements OnApplicationBootstrap {
  constructor(
    @InjectQueue(QueueName.Events) queue: Queue<ApplyEventsJob>,
    config: AppConfig,
    metrics: PipelineMetrics,
    private readonly applier: EventApplierService,
    private readonly catalog: CatalogSnapshotService,
  ) {
    super(queue, config, metrics);
  }

  /** Starts only once the catalog is in memory: events applied without their videos would lose their effect on taste. */
  async onApplicationBootstrap(): Promise<void> {
    if (!this.catalog.isLoaded) await new Promise<void>((resolve) => this.catalog.onRefresh(() => resolve()));
    this.start();
  }

  protected async process(job: Job<ApplyEventsJob>): Promise<{ applied: number }> {
    const { applied } = await this.applier.apply(job.data);
    return { applied };
  }
}
