/** Queues and the jobs on them. Each job name maps to its data type in JobMap. */
export enum QueueName {
  Events = 'events',
  Interactions = 'interactions',
  Training = 'training',
  Monitoring = 'monitoring',
}
