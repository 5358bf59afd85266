import { Module } from '@nestjs/common';
import { TrainingWorkerModule } from '../training/training-worker.module';
import { CoreModule } from './core.module';

/** The worker process: the same providers as the api, plus the queue processors, and no HTTP. */
@Module({
  imports: [CoreModule, TrainingWorkerModule],
})
export class WorkerModule {}
