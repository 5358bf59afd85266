import { Module } from '@nestjs/common';
import { ModelRuntime } from './model-runtime.service';
import { ActiveModelRepository } from './active-model.repository';

@Module({
  providers: [ActiveModelRepository, ModelRuntime],
  exports: [ModelRuntime],
})
export class RankingModule {}
