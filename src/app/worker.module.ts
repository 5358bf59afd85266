import { Module } from '@nestjs/common';
import { CoreModule } from './core.module';

/** The worker process: the same providers as the api, plus the queue processors, and no HTTP. */
@Module({
  imports: [CoreModule],
})
export class WorkerModule {}
