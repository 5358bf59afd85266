import 'reflect-metadata';
import { Logger as NestLogger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { MicroserviceOptions } from '@nestjs/microservices';
import { Logger } from 'nestjs-pino';
import { loadConfig } from './config/app-config';
import { exitOnConfigError } from './config/exit-on-config-error';
import { StreamModule } from './stream/stream.module';
import { streamTransport } from './stream/stream-transport';

async function bootstrap(): Promise<void> {
  const config = exitOnConfigError(loadConfig);
  const app = await NestFactory.createMicroservice<MicroserviceOptions>(StreamModule, {
    ...streamTransport(config),
    bufferLogs: true,
  });
  app.useLogger(app.get(Logger));
  // app.close() stops consuming before the shutdown hooks close Redis and Postgres; unacked messages are redelivered.
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => void app.close().then(() => process.exit(0)));
  }
  await app.listen();
  new NestLogger('Stream').log(`consuming interaction events over ${config.STREAM_TRANSPORT}`);
}

void bootstrap();
