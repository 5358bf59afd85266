import { InjectQueue } from '@nestjs/bullmq';
import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { Job, Queue, Worker } from 'bullmq';
import { CatalogSnapshotService } from '../catalog/catalog-snapshot.service';
import { AppConfig } from '../config/app-config';
import { QueueName } from '../queue/queue.types';
import { EventApplierService } from './event-applier.service';
import { ApplyEventsJob, isAppliedProgress } from './event-jobs';
import { PipelineMetrics } from './events.metrics';

/**
 * Consumes the events queue: each job is a small batch of one user's accepted events.
 * The BullMQ worker is built here from the validated AppConfig (concurrency, lock
 * duration: options @Processor's static decorator cannot take from config). Jobs that
 * fail their last attempt stay in the queue's failed set: the dead letters, replayed by
 * `npm run dlq:replay`.
 */
@Injectable()
export class ApplyEventsProcessor implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(ApplyEventsProcessor.name);
  private worker: Worker<ApplyEventsJob> | null = null;

  constructor(
    @InjectQueue(QueueName.Events) private readonly queue: Queue<ApplyEventsJob>,
    private readonly config: AppConfig,
    private readonly metrics: PipelineMetrics,
    private readonly applier: EventApplierService,
    private readonly catalog: CatalogSnapshotService,
  ) {}

  /** Starts only once the catalog is in memory: events applied without their videos would lose their effect on taste. */
  async onApplicationBootstrap(): Promise<void> {
    if (!this.catalog.isLoaded) await new Promise<void>((resolve) => this.catalog.onRefresh(() => resolve()));
    const worker = new Worker<ApplyEventsJob>(this.queue.name, (job) => this.timed(job), {
      connection: this.queue.opts.connection,
      prefix: this.queue.opts.prefix,
      concurrency: this.config.EVENTS_CONCURRENCY,
      lockDuration: this.config.WORKER_LOCK_MS,
      stalledInterval: Math.max(500, Math.floor(this.config.WORKER_LOCK_MS / 2)),
    });
    worker.on('failed', (job, err) => {
      if (!job) return;
      const attempts = job.opts.attempts ?? 1;
      if (job.attemptsMade >= attempts) {
        this.metrics.deadLetters.inc({ queue: this.queue.name });
        this.logger.error(`job ${job.id} failed its last attempt (${attempts}) and is kept as a dead letter: ${err.message}`);
      } else {
        this.logger.warn(`job ${job.id} failed attempt ${job.attemptsMade}/${attempts}, will retry: ${err.message}`);
      }
    });
    worker.on('error', (err) => this.logger.error(`worker error: ${err.message}`));
    this.worker = worker;
  }

  /** The job's progress carries what an earlier run recorded (see EventApplierService.apply). */
  async process(job: Job<ApplyEventsJob>): Promise<{ applied: number }> {
    const { applied } = await this.applier.apply(job.data, {
      resumedSeqs: isAppliedProgress(job.progress) ? job.progress.seqs : null,
      record: (seqs) => job.updateProgress({ seqs }),
    });
    return { applied };
  }

  private async timed(job: Job<ApplyEventsJob>): Promise<{ applied: number }> {
    if (job.attemptsMade === 0) this.metrics.queueWait.observe(Math.max(0, Date.now() - job.timestamp) / 1000);
    const end = this.metrics.jobSeconds.startTimer();
    try {
      return await this.process(job);
    } finally {
      end();
    }
  }

  /** Lets in-flight jobs finish, then stops. */
  async onApplicationShutdown(): Promise<void> {
    await this.worker?.close();
  }
}
