import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { loadConfig } from './config/app-config';
import { createApiApp } from './app/create-api-app';
import { exitOnConfigError } from './config/exit-on-config-error';

async function bootstrap(): Promise<void> {
  const config = exitOnConfigError(loadConfig);
  const app = await createApiApp();
  await app.listen({ port: config.PORT, host: config.HOST });
  new Logger('Api').log(`listening on http://${config.HOST}:${config.PORT} (docs at /docs)`);
}

void bootstrap();
