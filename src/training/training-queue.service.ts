import { InjectQueue } from '@nestjs/bullmq';
import { Injectable } from '@nestjs/common';
import { JobSchedulerJson, Queue } from 'bullmq';
import { JobOf, QueueName } from '../queue/queue.types';
import { RETRAIN_SCHEDULER_ID, TRAIN_JOB, TrainingJobData } from './training-jobs';
import { TrainingRunResult } from './training.service';

export interface TrainingJobStatus {
  id: string;
  state: string;
  trigger: TrainingJobData['trigger'];
  progress: unknown;
  result: TrainingRunResult | null;
  failedReason: string | null;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
}

const KEEP_FOR_SECONDS = 7 * 24 * 3600;

/** Producer side of the training queue: on-demand jobs, their status, and the retraining schedule. */
@Injectable()
export class TrainingQueueService {
  constructor(@InjectQueue(QueueName.Training) private readonly queue: Queue<JobOf<QueueName.Training>, TrainingRunResult>) {}

  async enqueue(data: TrainingJobData): Promise<string> {
    const job = await this.queue.add(TRAIN_JOB, data, {
      removeOnComplete: { age: KEEP_FOR_SECONDS, count: 200 },
      removeOnFail: { age: KEEP_FOR_SECONDS, count: 200 },
    });
    return job.id!;
  }

  async status(id: string): Promise<TrainingJobStatus | null> {
    // State first: a job read before it finished and asked for its state after would
    // report `completed` with no result.
    const state = await this.queue.getJobState(id);
    const job = await this.queue.getJob(id);
    if (!job) return null;
    const iso = (ms?: number | null) => (ms ? new Date(ms).toISOString() : null);
    return {
      id: job.id!,
      state,
      trigger: job.data.trigger,
      progress: job.progress,
      result: job.returnvalue ?? null,
      failedReason: job.failedReason || null,
      createdAt: new Date(job.timestamp).toISOString(),
      startedAt: iso(job.processedOn),
      finishedAt: iso(job.finishedOn),
    };
  }

  /**
   * One training run at a time across every worker process: each run needs a core and
   * about a gigabyte per million interactions, and two at once would only race to register.
   */
  async oneRunAtATime(): Promise<void> {
    await this.queue.setGlobalConcurrency(1);
  }

  /** Retrain every `everyMs` (null removes the schedule). The first run comes one interval after the schedule is created. */
  async schedule(everyMs: number | null, windowHours: number): Promise<void> {
    if (everyMs === null) {
      await this.queue.removeJobScheduler(RETRAIN_SCHEDULER_ID);
      return;
    }
    const current = await this.queue.getJobScheduler(RETRAIN_SCHEDULER_ID);
    if (current?.every === everyMs && current.template?.data?.windowHours === windowHours) return;
    await this.queue.upsertJobScheduler(
      RETRAIN_SCHEDULER_ID,
      { every: everyMs, startDate: Date.now() + everyMs },
      {
        name: TRAIN_JOB,
        data: { trigger: 'schedule', windowHours },
        opts: { removeOnComplete: { age: KEEP_FOR_SECONDS, count: 200 }, removeOnFail: { age: KEEP_FOR_SECONDS, count: 200 } },
      },
    );
  }

  scheduler(): Promise<JobSchedulerJson<TrainingJobData> | undefined> {
    return this.queue.getJobScheduler(RETRAIN_SCHEDULER_ID);
  }
}
