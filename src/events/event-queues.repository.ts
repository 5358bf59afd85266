import { InjectQueue } from '@nestjs/bullmq';
import { Injectable } from '@nestjs/common';
import { JobsOptions, Queue } from 'bullmq';
import { randomUUID } from 'node:crypto';
import { AppConfig } from '../config/app-config';
import { QueueName } from '../queue/queue.types';

/** The job states reported by `jobCounts` (queue depth on /metrics). */
export const QUEUE_STATES = ['waiting', 'delayed', 'prioritized', 'active', 'failed'] as const;
import { APPLY_EVENTS_JOB, ApplyEventsJob, QueuedEvent } from './event-jobs';

export interface DeadLetter {
  queue: QueueName;
  id: string;
  name: string;
  failedReason: string;
  attemptsMade: number;
  finishedOn?: number;
}

/** The pipeline's queue: producer, and the dead letters (jobs kept after their last failed attempt). */
@Injectable()
export class EventQueuesRepository {
  private readonly jobOptions: JobsOptions;

  constructor(
    @InjectQueue(QueueName.Events) private readonly events: Queue<ApplyEventsJob>,
    private readonly config: AppConfig,
  ) {
    this.jobOptions = {
      attempts: config.EVENTS_JOB_ATTEMPTS,
      backoff: { type: 'exponential', delay: config.EVENTS_RETRY_DELAY_MS },
      removeOnComplete: true,
      removeOnFail: false,
    };
  }

  /** Whether the queue's Redis connection is up; when it is not, an add would wait for it instead of failing. */
  async connected(): Promise<boolean> {
    return (await this.events.getBackend().client).status === 'ready';
  }

  /** Queues one user's accepted events as jobs of at most EVENTS_JOB_SIZE events, in order, in one round trip. */
  async enqueueApply(userId: string, events: QueuedEvent[]): Promise<void> {
    const size = this.config.EVENTS_JOB_SIZE;
    const jobs = [];
    for (let i = 0; i < events.length; i += size) {
      const data: ApplyEventsJob = { userId, chunkId: randomUUID(), events: events.slice(i, i + size) };
      jobs.push({ name: APPLY_EVENTS_JOB, data, opts: this.jobOptions });
    }
    await this.events.addBulk(jobs);
  }

  private queues(): [QueueName, Queue][] {
    return [[QueueName.Events, this.events]];
  }

  /** Jobs per queue and state: the backlog (waiting, delayed, prioritized), in progress (active) and dead letters (failed). */
  async jobCounts(): Promise<Record<string, Record<string, number>>> {
    const out: Record<string, Record<string, number>> = {};
    for (const [name, q] of this.queues()) out[name] = await q.getJobCounts(...QUEUE_STATES);
    return out;
  }

  async deadLetterCounts(): Promise<Record<string, number>> {
    const out: Record<string, number> = {};
    for (const [name, q] of this.queues()) out[name] = await q.getFailedCount();
    return out;
  }

  async listDeadLetters(limit = 1000): Promise<DeadLetter[]> {
    const out: DeadLetter[] = [];
    for (const [name, q] of this.queues()) {
      for (const job of await q.getFailed(0, limit - 1)) {
        out.push({
          queue: name,
          id: String(job.id),
          name: job.name,
          failedReason: job.failedReason,
          attemptsMade: job.attemptsMade,
          finishedOn: job.finishedOn,
        });
      }
    }
    return out;
  }

  /**
   * Moves every dead letter back to its queue's wait list with a fresh set of attempts;
   * returns how many per queue. The list is read first, so a job that fails again while
   * this runs stays a dead letter instead of looping.
   */
  async replayDeadLetters(): Promise<Record<string, number>> {
    const out: Record<string, number> = {};
    for (const [name, q] of this.queues()) {
      const jobs = [];
      for (let start = 0; ; start += 1000) {
        const page = await q.getFailed(start, start + 999);
        jobs.push(...page);
        if (page.length < 1000) break;
      }
      for (const job of jobs) await job.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true });
      out[name] = jobs.length;
    }
    return out;
  }
}
