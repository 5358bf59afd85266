import 'reflect-metadata';
import { Logger as NestLogger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Logger } from 'nestjs-pino';
import { WorkerModule } from './app/worker.module';
import { loadConfig } from './config/app-config';
import { exitOnConfigError } from './config/exit-on-config-error';

async function bootstrap(): Promise<void> {
  exitOnConfigError(loadConfig);
  const app = await NestFactory.createApplicationContext(WorkerModule, { bufferLogs: true });
  app.useLogger(app.get(Logger));
  // process.exit after shutdown (not a re-raised signal) so pino flushes its buffered lines on 'exit'
  app.enableShutdownHooks([], { useProcessExit: true });
  new NestLogger('Worker').log('processing queues');
}

void bootstrap();
