import { Module } from '@nestjs/common';
import { LoggingModule } from '../logging/logging.module';
import { MonitoringWorkerModule } from '../monitoring/monitoring-worker.module';
import { CoreModule } from './core.module';

/** The worker process: the same providers as the api, plus the queue processors, and no HTTP. */
@Module({
  imports: [CoreModule, LoggingModule.forProcess('worker'), MonitoringWorkerModule],
})
export class WorkerModule {}
