import { Logger, OnApplicationShutdown } from '@nestjs/common';
import { Job, Queue, Worker } from 'bullmq';
import { AppConfig } from '../config/app-config';
import { PipelineMetrics } from './events.metrics';

/**
 * A BullMQ worker over one queue, built from the validated AppConfig (concurrency, lock
 * duration: options @Processor's static decorator cannot take from config). Jobs that
 * fail their last attempt stay in the queue's failed set: the dead letters, replayed by
 * `npm run dlq:replay`.
 */
export abstract class QueueProcessor<T> implements OnApplicationShutdown {
  protected readonly logger = new Logger(this.constructor.name);
  private worker: Worker<T> | null = null;

  protected constructor(
    private readonly queue: Queue<T>,
    protected readonly config: AppConfig,
    protected readonly metrics: PipelineMetrics,
  ) {}

  protected abstract process(job: Job<T>): Promise<unknown>;

  /** Starts consuming (call once what the processor depends on is ready). */
  protected start(): void {
    const worker = new Worker<T>(this.queue.name, (job) => this.timed(job), {
      connection: this.queue.opts.connection,
      prefix: this.queue.opts.prefix,
      concurrency: this.config.WORKER_CONCURRENCY,
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

  private async timed(job: Job<T>): Promise<unknown> {
    const end = this.metrics.jobSeconds.startTimer({ queue: this.queue.name });
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
