import { Module } from '@nestjs/common';
import { TrainingProcessor } from './training.processor';
import { TrainingSchedulerService } from './training-scheduler.service';
import { TrainingModule } from './training.module';

/** Worker-only: the training job processor and the retraining schedule. */
@Module({
  imports: [TrainingModule],
  providers: [TrainingProcessor, TrainingSchedulerService],
})
export class TrainingWorkerModule {}
