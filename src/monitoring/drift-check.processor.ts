import { Processor, WorkerHost } from '@nestjs/bullmq';
import type { Job } from 'bullmq';
import { JobName, JobOf, QueueName } from '../queue/queue.types';
import { DriftService } from './drift.service';

export const DRIFT_CHECK_JOB: JobName<QueueName.Monitoring> = 'drift-check';

/** Runs the drift check each time the monitoring queue's scheduler fires (worker only). */
@Processor(QueueName.Monitoring, { concurrency: 1 })
export class DriftCheckProcessor extends WorkerHost {
  constructor(private readonly drift: DriftService) {
    super();
  }

  async process(job: Job<JobOf<QueueName.Monitoring>>): Promise<{ reportId: string; status: string; maxPsi: number | null }> {
    if (job.name !== DRIFT_CHECK_JOB) throw new Error(`unknown job ${job.name} on the ${QueueName.Monitoring} queue`);
    const report = await this.drift.check();
    return { reportId: report.id, status: report.status, maxPsi: report.maxPsi };
  }
}
