import type { JobName, QueueName } from '../queue/queue.types';

/** Jobs on QueueName.Training. */
export const TRAIN_JOB: JobName<QueueName.Training> = 'train';
export const RETRAIN_SCHEDULER_ID = 'retrain';

export interface TrainingJobData {
  trigger: 'api' | 'schedule';
  windowHours?: number;
  autoPromote?: boolean;
}
