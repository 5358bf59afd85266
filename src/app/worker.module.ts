import { Module } from '@nestjs/common';
import { EventsWorkerModule } from '../events/events-worker.module';
import { LoggingModule } from '../logging/logging.module';
import { MetricsServer } from '../metrics/metrics-server';
import { MonitoringWorkerModule } from '../monitoring/monitoring-worker.module';
import { RedisPersistenceCheck } from '../redis/redis-persistence.check';
import { TrainingWorkerModule } from '../training/training-worker.module';
import { CoreModule } from './core.module';

/**
 * The worker process: the same providers as the api, plus the queue processors, and no HTTP.
 * It alone checks Redis persistence at boot: one warning per deployment, not one per process and command.
 */
@Module({
  imports: [CoreModule, LoggingModule.forProcess('worker'), EventsWorkerModule, TrainingWorkerModule, MonitoringWorkerModule],
  providers: [MetricsServer, RedisPersistenceCheck],
})
export class WorkerModule {}
