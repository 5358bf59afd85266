import type { ApplyEventsJob } from '../events/event-jobs';
import type { TrainingJobData } from '../training/training-jobs';

/** Queues and the jobs on them. Each job name maps to its data type in JobMap. */
export enum QueueName {
  /** Sharded: see EventQueueShards. */
  Events = 'events',
  Training = 'training',
  Monitoring = 'monitoring',
}

/** Per queue, each job name and the data its jobs carry (the job-name constants are typed by it). */
export interface JobMap {
  [QueueName.Events]: { apply: ApplyEventsJob };
  [QueueName.Training]: { train: TrainingJobData };
  [QueueName.Monitoring]: { 'drift-check': Record<string, never> };
}

export type JobName<Q extends QueueName> = keyof JobMap[Q] & string;
export type JobOf<Q extends QueueName, N extends JobName<Q> = JobName<Q>> = JobMap[Q][N];
