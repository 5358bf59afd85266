import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { Logger } from 'nestjs-pino';
import { Registry } from 'prom-client';
import { AllExceptionsFilter } from '../common/all-exceptions.filter';
import { FastPathValidationPipe, VALIDATION_OPTIONS } from '../common/validation';
import { depthLimitedJsonParser } from '../common/json-body-parser';
import { rejectNulInUrls } from '../common/nul-guard';
import { AppConfig, loadConfig } from '../config/app-config';
import { closeConnectionsOnShutdown } from '../lifecycle/close-connections-on-shutdown';
import { ShutdownService } from '../lifecycle/shutdown.service';
import { echoRequestIds, requestIdOptions } from '../logging/request-id';
import { recordHttpMetrics } from '../metrics/http-metrics';
import { ApiModule, optionalApiModules } from './api.module';

/** Fastify's trustProxy from TRUST_PROXY: true/false, or a list of addresses, CIDRs and proxy-addr names. */
export function trustProxyOption(value: string): boolean | string {
  const v = value.trim().toLowerCase();
  if (v === 'true') return true;
  if (v === 'false' || v === '') return false;
  return value;
}

/** Builds the api application (used by main.ts and by the e2e tests). */
export async function createApiApp(options: { logger?: false } = {}): Promise<NestFastifyApplication> {
  const config: AppConfig = loadConfig();
  const adapter = new FastifyAdapter({
    ...requestIdOptions,
    bodyLimit: config.BODY_LIMIT_BYTES,
    trustProxy: trustProxyOption(config.TRUST_PROXY),
    // Requests arriving on a kept-alive connection while the server closes are still served (see ShutdownService).
    return503OnClosing: false,
    // A client that trickles (or never finishes) its headers or body is cut off with 408; Node
    // checks these deadlines every connectionsCheckingInterval (30 s by default), hence 1 s.
    requestTimeout: config.HTTP_REQUEST_TIMEOUT_MS,
    http: {
      headersTimeout: Math.min(config.HTTP_HEADERS_TIMEOUT_MS, config.HTTP_REQUEST_TIMEOUT_MS),
      connectionsCheckingInterval: 1000,
    },
  });
  echoRequestIds(adapter.getInstance());
  rejectNulInUrls(adapter.getInstance());
  const app = await NestFactory.create<NestFastifyApplication>(
    { module: ApiModule, imports: optionalApiModules(config) },
    adapter,
    options.logger === false ? { logger: false } : { bufferLogs: true },
  );
  if (options.logger !== false) app.useLogger(app.get(Logger));
  if (config.NODE_ENV === 'production' && config.METRICS_PORT === 0 && !config.METRICS_TOKEN) {
    app.get(Logger).warn('/metrics is open on the public port: set METRICS_PORT or METRICS_TOKEN', 'Metrics');
  }
  closeConnectionsOnShutdown(adapter.getInstance(), app.get(ShutdownService));
  recordHttpMetrics(adapter.getInstance(), app.get(Registry));
  app.useBodyParser(
    'application/json',
    { bodyLimit: config.BODY_LIMIT_BYTES },
    depthLimitedJsonParser(app.getHttpAdapter().getInstance(), config.JSON_MAX_DEPTH),
  );
  app.useGlobalPipes(new FastPathValidationPipe(VALIDATION_OPTIONS));
  app.useGlobalFilters(new AllExceptionsFilter({ bodyLimitBytes: config.BODY_LIMIT_BYTES }));
  // process.exit after shutdown (not a re-raised signal) so pino flushes its buffered lines on 'exit'
  app.enableShutdownHooks([], { useProcessExit: true });
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
