import { Module } from '@nestjs/common';
import { MultipartModule } from '@nestjs/platform-fastify/multipart';
import { AppConfig } from '../config/app-config';
import { ModelsAdminController } from './models-admin.controller';
import { TrainingModule } from '../training/training.module';

/** Api-only: the admin endpoints of the model registry and the training queue. */
@Module({
  imports: [
    TrainingModule,
    MultipartModule.registerAsync({
      inject: [AppConfig],
      useFactory: (config: AppConfig) => ({ limits: { fileSize: config.MODEL_UPLOAD_MAX_BYTES, files: 1, fields: 10 } }),
    }),
  ],
  controllers: [ModelsAdminController],
})
export class ModelsAdminModule {}
