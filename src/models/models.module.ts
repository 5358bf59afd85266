import { Module } from '@nestjs/common';
import { ActiveModelRepository } from './active-model.repository';
import { ModelRegistryService } from './model-registry.service';
import { ModelVersionRepository } from './model-version.repository';

/** The model registry (model_versions), shared by the api, the worker and the train command. */
@Module({
  providers: [ModelVersionRepository, ActiveModelRepository, ModelRegistryService],
  exports: [ModelVersionRepository, ActiveModelRepository, ModelRegistryService],
})
export class ModelsModule {}
