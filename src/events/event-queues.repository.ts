import { Injectable } from '@nestjs/common';
import { Job, JobsOptions, Queue } from 'bullmq';
import { randomUUID } from 'node:crypto';
import { AppConfig } from '../config/app-config';
import { EventQueueShards } from '../queue/event-queue-shards';
import { retrySchedule } from '../queue/retry-schedule';
import { APPLY_EVENTS_JOB, ApplyEventsJob, QueuedEvent } from './event-jobs';

/** The job states reported by `jobCounts` (queue depth on /metrics). */
export const QUEUE_STATES = ['waiting', 'delayed', 'prioritized', 'active', 'failed'] as const;

/** Backoff type of event jobs: the workers compute it with `retryDelay` (capped exponential; see retry-schedule.ts). */
export const EVENTS_BACKOFF = 'failover';

export interface DeadLetter {
  /** The events queue shard holding it (`events`, or `events.<shard>` with several shards). */
  queue: string;
  id: string;
  name: string;
  failedReason: string;
  attemptsMade: number;
  finishedOn?: number;
  userId: string;
  events: number;
}

/** One event split off its job to be kept as a dead letter (see EventApplierService). */
export interface SplitOffEvent {
  /** Its index in the job: with the job's chunk id, a stable id (a retried job does not add it twice). */
  index: number;
  event: QueuedEvent;
  reason: string;
  /** Set when its effects were applied but its log row was refused. */
  appliedSeq?: number;
}

/** Fields of a dead letter's event that `fixDeadLetter` may change. */
export const FIXABLE_FIELDS = ['videoId', 'type', 'watchMs', 'requestId', 'occurredAt'] as const;
export type EventFix = Partial<Pick<QueuedEvent, (typeof FIXABLE_FIELDS)[number]>>;

/** The pipeline's queue shards: producer, and the dead letters (jobs kept after their last failed attempt). */
@Injectable()
export class EventQueuesRepository {
  private readonly jobOptions: JobsOptions;

  constructor(
    private readonly shards: EventQueueShards,
    private readonly config: AppConfig,
  ) {
    this.jobOptions = {
      attempts: retrySchedule(eventRetryPolicy(config)).attempts,
      backoff: { type: EVENTS_BACKOFF },
      removeOnComplete: true,
      removeOnFail: false,
    };
  }

  /** The shard a user's events are queued on. */
  shardOf(userId: string): number {
    return this.shards.shardOf(userId);
  }

  /**
   * Whether the connection of the user's shard is up; when it is not, an add would wait for
   * it instead of failing. (On a cluster the connection is shared: a master that is down
   * shows as failing commands instead.)
   */
  async connected(userId: string): Promise<boolean> {
    return (await this.shards.queueOf(userId).getBackend().client).status === 'ready';
  }

  /**
   * Queues one user's accepted events as jobs of at most EVENTS_JOB_SIZE events, in order, in
   * one round trip, on the user's shard. The job id is the chunk id: unique across shards.
   */
  async enqueueApply(userId: string, events: QueuedEvent[]): Promise<void> {
    const size = this.config.EVENTS_JOB_SIZE;
    const jobs = [];
    for (let i = 0; i < events.length; i += size) {
      const data: ApplyEventsJob = { userId, chunkId: randomUUID(), events: events.slice(i, i + size) };
      jobs.push({ name: APPLY_EVENTS_JOB, data, opts: { ...this.jobOptions, jobId: data.chunkId } });
    }
    await this.shards.queueOf(userId).addBulk(jobs);
  }

  /**
   * Keeps events that cannot be applied or logged as dead letters of their own: each a
   * one-event job carrying its reason, which fails as soon as a worker takes it (so it
   * lands in the failed set with that reason, where the other dead letters are).
   */
  async keepAsDeadLetters(job: ApplyEventsJob, split: SplitOffEvent[]): Promise<void> {
    if (split.length === 0) return;
    await this.shards.queueOf(job.userId).addBulk(
      split.map((s) => ({
        name: APPLY_EVENTS_JOB,
        data: {
          userId: job.userId,
          chunkId: `${job.chunkId}.${s.index}`,
          events: [s.event],
          rejected: s.reason,
          ...(s.appliedSeq !== undefined ? { appliedSeqs: [s.appliedSeq] } : {}),
        },
        opts: { ...this.jobOptions, jobId: `dl-${job.chunkId}-${s.index}`.replace(/:/g, '_') },
      })),
    );
  }

  private queues(): [string, Queue<ApplyEventsJob>][] {
    return this.shards.queues.map((q, shard) => [this.shards.label(shard), q]);
  }

  /** Jobs per state over all shards (under `events`): the backlog (waiting, delayed, prioritized), in progress (active) and dead letters (failed). */
  async jobCounts(): Promise<Record<string, Record<string, number>>> {
    const total: Record<string, number> = {};
    for (const counts of await Promise.all(this.shards.queues.map((q) => q.getJobCounts(...QUEUE_STATES)))) {
      for (const [state, n] of Object.entries(counts)) total[state] = (total[state] ?? 0) + n;
    }
    return { events: total };
  }

  /** Backlog (waiting, delayed, prioritized) per shard: a shard whose master is down or whose workers are missing stands out. */
  async shardBacklogs(): Promise<Record<string, number>> {
    const out: Record<string, number> = {};
    await Promise.all(
      this.queues().map(async ([name, q]) => {
        const c = await q.getJobCounts('waiting', 'delayed', 'prioritized');
        out[name] = c.waiting + c.delayed + c.prioritized;
      }),
    );
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
          userId: job.data?.userId,
          events: job.data?.events?.length ?? 0,
        });
      }
    }
    return out;
  }

  /** Every dead letter's data (for the reconcile check). */
  async deadLetterDetails(): Promise<{ id: string; data: ApplyEventsJob }[]> {
    const out: { id: string; data: ApplyEventsJob }[] = [];
    for (const [, q] of this.queues()) {
      for (let start = 0; ; start += 1000) {
        const page = await q.getFailed(start, start + 999);
        for (const job of page) out.push({ id: String(job.id), data: job.data });
        if (page.length < 1000) break;
      }
    }
    return out;
  }

  /** One dead letter with its data (the events), or null when there is no such failed job. */
  async deadLetter(id: string): Promise<(DeadLetter & { data: ApplyEventsJob }) | null> {
    const found = await this.failedJob(id);
    if (!found) return null;
    const { job, queue } = found;
    return {
      queue,
      id: String(job.id),
      name: job.name,
      failedReason: job.failedReason,
      attemptsMade: job.attemptsMade,
      finishedOn: job.finishedOn,
      userId: job.data.userId,
      events: job.data.events.length,
      data: job.data,
    };
  }

  /** Changes fields of a dead letter's events (all of them, or the one at `index`); it stays a dead letter until replayed. */
  async fixDeadLetter(id: string, fix: EventFix, index?: number): Promise<boolean> {
    const job = (await this.failedJob(id))?.job;
    if (!job) return false;
    const events = job.data.events.map((e, i) => (index === undefined || i === index ? { ...e, ...fix } : e));
    await job.updateData({ ...job.data, events });
    return true;
  }

  /** Deletes a dead letter for good: its events are neither applied nor logged (unless it says they were applied). */
  async discardDeadLetter(id: string): Promise<boolean> {
    const job = (await this.failedJob(id))?.job;
    if (!job) return false;
    await job.remove();
    return true;
  }

  /**
   * Moves dead letters (all, or those of `ids`) back to the queue's wait list with a fresh
   * set of attempts; returns how many per queue. The list is read first, so a job that
   * fails again while this runs stays a dead letter instead of looping. An event split
   * off its job is checked again when it runs: still unfit, it is a dead letter again.
   */
  async replayDeadLetters(ids?: string[]): Promise<Record<string, number>> {
    const out: Record<string, number> = {};
    for (const [name, q] of this.queues()) {
      const jobs: Job<ApplyEventsJob>[] = [];
      if (ids) {
        for (const id of ids) {
          const job = await q.getJob(id);
          if (job && (await job.isFailed())) jobs.push(job);
        }
      } else {
        for (let start = 0; ; start += 1000) {
          const page = await q.getFailed(start, start + 999);
          jobs.push(...page);
          if (page.length < 1000) break;
        }
      }
      for (const job of jobs) {
        if (job.data.rejected !== undefined) {
          const { rejected: _reason, ...data } = job.data;
          await job.updateData(data);
        }
        await job.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true });
      }
      out[name] = jobs.length;
    }
    return out;
  }

  /** A failed job by id, on whichever shard holds it (job ids are chunk ids, unique across shards). */
  private async failedJob(id: string): Promise<{ job: Job<ApplyEventsJob>; queue: string } | null> {
    for (const [queue, q] of this.queues()) {
      const job = await q.getJob(id);
      if (job && (await job.isFailed())) return { job, queue };
    }
    return null;
  }
}

/** The event jobs' retry policy from config: sized to outlast QUEUE_FAILOVER_BUDGET_MS. */
export function eventRetryPolicy(config: AppConfig) {
  return {
    firstDelayMs: config.EVENTS_RETRY_DELAY_MS,
    maxDelayMs: config.QUEUE_RETRY_MAX_DELAY_MS,
    budgetMs: config.QUEUE_FAILOVER_BUDGET_MS,
    minAttempts: config.EVENTS_JOB_ATTEMPTS,
  };
}
