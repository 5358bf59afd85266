import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { WorkerModule } from './app/worker.module';
import { loadConfig } from './config/app-config';
import { exitOnConfigError } from './config/exit-on-config-error';

async function bootstrap(): Promise<void> {
  exitOnConfigError(loadConfig);
  const app = await NestFactory.createApplicationContext(WorkerModule);
  app.enableShutdownHooks();
  new Logger('Worker').log('processing queues');
}

void bootstrap();
