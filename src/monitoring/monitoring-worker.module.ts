import { BullModule } from '@nestjs/bullmq';
import { Module } from '@nestjs/common';
import { QueueName } from '../queue/queue.types';
import { DriftCheckProcessor } from './drift-check.processor';
import { DriftSchedulerService } from './drift-scheduler.service';
import { DriftMetrics } from './drift.metrics';
import { DriftRepository } from './drift.repository';
import { DriftService } from './drift.service';
import { ModelScorer } from './model-scorer';

/** Drift monitoring in the worker: the scheduled check on the monitoring queue. */
@Module({
  imports: [BullModule.registerQueue({ name: QueueName.Monitoring })],
  providers: [DriftRepository, DriftMetrics, ModelScorer, DriftService, DriftCheckProcessor, DriftSchedulerService],
  exports: [DriftService],
})
export class MonitoringWorkerModule {}
