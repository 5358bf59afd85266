/** Jobs on QueueName.Training. */
export const TRAIN_JOB = 'train';
export const RETRAIN_SCHEDULER_ID = 'retrain';

export interface TrainingJobData {
  trigger: 'api' | 'schedule';
  windowHours?: number;
  autoPromote?: boolean;
}
