import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { DelayedError, Job, Worker } from 'bullmq';
import { CatalogSnapshotService } from '../catalog/catalog-snapshot.service';
import { AppConfig } from '../config/app-config';
import { DatabaseUnavailableError } from '../database/database-unavailable';
import { EventQueueShards } from '../queue/event-queue-shards';
import { QueueErrors } from '../queue/queue-errors';
import { retryDelay } from '../queue/retry-schedule';
import { isStuck, STUCK_AFTER_MS, WorkerActivity } from '../queue/stuck-worker';
import { EventApplierService } from './event-applier.service';
import { ApplyEventsJob, isAppliedProgress } from './event-jobs';
import { ClosableWorker, WorkersOnShutdown } from '../lifecycle/shutdown.service';
import { eventRetryPolicy, EVENTS_BACKOFF } from './event-queues.repository';
import { PipelineMetrics } from './events.metrics';

/** Longest wait before a job held up by an unreachable Postgres is tried again. */
const DATABASE_WAIT_MAX_MS = 5000;
/** How often the workers are checked for a blocking read stuck on a dead connection. */
const WATCHDOG_EVERY_MS = 10_000;
/** At most one warning this often while Postgres is unreachable. */
const WARN_EVERY_MS = 10_000;

/**
 * Consumes the events queue shards (all, or WORKER_SHARDS): one BullMQ worker per shard,
 * each job a small batch of one user's accepted events. The workers are built here from
 * the validated AppConfig (concurrency, lock duration, backoff: options @Processor's
 * static decorator cannot take from config). Jobs that
 * fail their last attempt stay in the queue's failed set: the dead letters, replayed by
 * `npm run dlq:replay`. A job held up because Postgres is unreachable (a restart, a
 * failover) is put back to wait without using up an attempt, however long that lasts:
 * an outage longer than the retry budget must not turn accepted events into dead letters.
 */
@Injectable()
export class ApplyEventsProcessor implements OnApplicationBootstrap, OnApplicationShutdown, WorkersOnShutdown {
  private readonly logger = new Logger(ApplyEventsProcessor.name);
  private readonly workers = new Map<number, { worker: Worker<ApplyEventsJob>; activity: WorkerActivity }>();
  private watchdog: NodeJS.Timeout | null = null;
  private lastDeferWarning = 0;
  /** Set at shutdown: no worker is replaced after it. */
  private stopping = false;

  constructor(
    private readonly shards: EventQueueShards,
    private readonly config: AppConfig,
    private readonly metrics: PipelineMetrics,
    private readonly applier: EventApplierService,
    private readonly catalog: CatalogSnapshotService,
    private readonly errors: QueueErrors,
  ) {}

  /**
   * Starts only once the catalog is in memory: events applied without their videos would
   * lose their effect on taste. EVENTS_CONCURRENCY is the process's, shared out over its shards.
   */
  async onApplicationBootstrap(): Promise<void> {
    if (!this.catalog.isLoaded) await new Promise<void>((resolve) => this.catalog.onRefresh(() => resolve()));
    const consumed = this.shards.consumed();
    for (const shard of consumed) this.startWorker(shard, consumed.length);
    this.watchdog = setInterval(() => void this.replaceStuckWorkers(consumed.length), WATCHDOG_EVERY_MS);
    this.watchdog.unref();
    this.logger.log(`consuming ${consumed.length} of ${this.shards.count} event queue shard(s), concurrency ${this.concurrency(consumed.length)} each`);
  }

  private concurrency(shards: number): number {
    return Math.max(1, Math.ceil(this.config.EVENTS_CONCURRENCY / shards));
  }

  private startWorker(shard: number, shards: number): void {
    const queue = this.shards.queues[shard];
    const label = this.shards.label(shard);
    const policy = eventRetryPolicy(this.config);
    const activity: WorkerActivity = { running: 0, lastActivityAt: Date.now() };
    const run = async (job: Job<ApplyEventsJob>, token?: string) => {
      activity.running += 1;
      activity.lastActivityAt = Date.now();
      try {
        return await this.timed(job, token);
      } finally {
        activity.running -= 1;
        activity.lastActivityAt = Date.now();
      }
    };
    const worker = new Worker<ApplyEventsJob>(queue.name, run, {
      connection: queue.opts.connection,
      prefix: queue.opts.prefix,
      concurrency: this.concurrency(shards),
      lockDuration: this.config.WORKER_LOCK_MS,
      stalledInterval: Math.max(500, Math.floor(this.config.WORKER_LOCK_MS / 2)),
      settings: {
        backoffStrategy: (attemptsMade, type) => (type === EVENTS_BACKOFF ? retryDelay(attemptsMade, policy) : 0),
      },
    });
    worker.on('failed', (job, err) => this.onFailed(label, job, err));
    this.workers.set(shard, { worker: this.errors.watch(worker, label), activity });
  }

  /** Replaces the workers that take no jobs from a shard with jobs waiting (see isStuck). */
  private async replaceStuckWorkers(shards: number): Promise<void> {
    for (const [shard, { worker, activity }] of this.workers) {
      const waiting = await this.shards.queues[shard].getWaitingCount().catch(() => 0);
      if (this.stopping || !isStuck(activity, waiting, Date.now())) continue;
      this.logger.warn(`${this.shards.label(shard)}: ${waiting} job(s) waiting and none taken for ${STUCK_AFTER_MS / 1000} s: replacing the worker`);
      this.metrics.workersReplaced.inc({ queue: this.shards.label(shard) });
      void worker.close(true).catch(() => undefined);
      this.startWorker(shard, shards);
    }
  }

  private onFailed(queue: string, job: Job<ApplyEventsJob> | undefined, err: Error): void {
    if (!job) return;
    const attempts = job.opts.attempts ?? 1;
    if (err.name === 'UnrecoverableError') {
      this.metrics.deadLetters.inc({ queue });
      this.logger.error(`job ${job.id} (${job.data.events.length} event(s) of ${job.data.userId}) is kept as a dead letter: ${err.message}`);
    } else if (job.attemptsMade >= attempts) {
      this.metrics.deadLetters.inc({ queue });
      this.logger.error(`job ${job.id} failed its last attempt (${attempts}) and is kept as a dead letter: ${err.message}`);
    } else {
      this.logger.warn(`job ${job.id} failed attempt ${job.attemptsMade}/${attempts}, will retry: ${err.message}`);
    }
  }

  /** The job's progress carries what an earlier run recorded (see EventApplierService.apply). */
  async process(job: Job<ApplyEventsJob>): Promise<{ applied: number }> {
    const { applied } = await this.applier.apply(job.data, {
      resumedSeqs: isAppliedProgress(job.progress) ? job.progress.seqs : null,
      record: (seqs) => job.updateProgress({ seqs }),
    });
    return { applied };
  }

  private async timed(job: Job<ApplyEventsJob>, token?: string): Promise<{ applied: number }> {
    const firstRun = job.attemptsMade === 0 && job.attemptsStarted <= 1; // not a retry, nor a run after waiting for Postgres
    if (firstRun) this.metrics.queueWait.observe(Math.max(0, Date.now() - job.timestamp) / 1000);
    const end = this.metrics.jobSeconds.startTimer();
    try {
      return await this.process(job);
    } catch (err) {
      if (err instanceof DatabaseUnavailableError && token) await this.waitForDatabase(job, token, err);
      throw err;
    } finally {
      end();
    }
  }

  /**
   * Moves the job to the delayed set (BullMQ does not count that as an attempt) with a
   * backoff that grows with the times it was started, capped at DATABASE_WAIT_MAX_MS.
   * What the run already did is in the job's progress, so the next run resumes there.
   */
  private async waitForDatabase(job: Job<ApplyEventsJob>, token: string, err: DatabaseUnavailableError): Promise<never> {
    const exponent = Math.min(10, Math.max(0, job.attemptsStarted - 1));
    const delay = Math.min(DATABASE_WAIT_MAX_MS, this.config.EVENTS_RETRY_DELAY_MS * 2 ** exponent);
    await job.moveToDelayed(Date.now() + delay, token);
    this.metrics.deferred.inc({ reason: 'postgres_unavailable' });
    if (Date.now() - this.lastDeferWarning >= WARN_EVERY_MS) {
      this.lastDeferWarning = Date.now();
      this.logger.warn(`${err.message}: job ${job.id} waits ${delay} ms (jobs wait for Postgres without using up attempts)`);
    }
    throw new DelayedError();
  }

  /** Shutdown's step 3 (ShutdownService): no more worker replacements; the workers, to close while every connection is open. */
  stopWorkers(): ClosableWorker[] {
    this.stopping = true;
    if (this.watchdog) clearInterval(this.watchdog);
    this.watchdog = null;
    return [...this.workers.values()].map(({ worker }) => worker);
  }

  /**
   * The workers were closed at step 3, or were left closing there (they end as their
   * connections close now): not waited for again, as that would hold up the closing of
   * those connections by the modules after this one.
   */
  onApplicationShutdown(): void {
    for (const worker of this.stopWorkers()) void worker.close().catch(() => undefined);
  }
}
