import { Module } from '@nestjs/common';
import { ModelRuntime } from './model-runtime.service';
import { ModelVersionRepository } from './model-version.repository';

@Module({
  providers: [ModelVersionRepository, ModelRuntime],
  exports: [ModelRuntime],
})
export class RankingModule {}
