import { Module } from '@nestjs/common';
import { EventsWorkerModule } from '../events/events-worker.module';
import { MetricsServer } from '../metrics/metrics-server';
import { TrainingWorkerModule } from '../training/training-worker.module';
import { CoreModule } from './core.module';

/** The worker process: the same providers as the api, plus the queue processors, and no HTTP. */
@Module({
  imports: [CoreModule, EventsWorkerModule, TrainingWorkerModule],
  providers: [MetricsServer],
})
export class WorkerModule {}
