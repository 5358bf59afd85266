import { Module } from '@nestjs/common';
import { ModelsModule } from '../models/models.module';
import { ModelRuntime } from './model-runtime.service';

@Module({
  imports: [ModelsModule],
  providers: [ModelRuntime],
  exports: [ModelRuntime],
})
export class RankingModule {}
