import { ValidationPipe } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { AllExceptionsFilter } from '../common/all-exceptions.filter';
import { VALIDATION_OPTIONS } from '../common/validation';
import { ApiModule } from './api.module';

export const BODY_LIMIT_BYTES = 1024 * 1024;

/** Builds the api application (used by main.ts and by the e2e tests). */
export async function createApiApp(options: { logger?: false } = {}): Promise<NestFastifyApplication> {
  const app = await NestFactory.create<NestFastifyApplication>(
    ApiModule,
    new FastifyAdapter({ bodyLimit: BODY_LIMIT_BYTES, trustProxy: true }),
    { bufferLogs: false, ...(options.logger === false ? { logger: false } : {}) },
  );
  app.useGlobalPipes(new ValidationPipe(VALIDATION_OPTIONS));
  app.useGlobalFilters(new AllExceptionsFilter());
  app.enableShutdownHooks();
  const docs = new DocumentBuilder()
    .setTitle('Reelrank')
    .setDescription('Real-time short-video feed recommendations')
    .setVersion('1')
    .addBearerAuth()
    .addApiKey({ type: 'apiKey', in: 'header', name: 'x-api-key' }, 'admin')
    .build();
  SwaggerModule.setup('docs', app, () => SwaggerModule.createDocument(app, docs));
  return app;
}
