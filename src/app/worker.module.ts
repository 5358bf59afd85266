import { Module } from '@nestjs/common';
import { EventsWorkerModule } from '../events/events-worker.module';
import { MetricsServer } from '../metrics/metrics-server';
import { CoreModule } from './core.module';

/** The worker process: the same providers as the api, plus the queue processors, and no HTTP. */
@Module({
  imports: [CoreModule, EventsWorkerModule],
  providers: [MetricsServer],
})
export class WorkerModule {}
