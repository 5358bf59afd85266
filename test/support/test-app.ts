import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createApiApp } from '../../src/app/create-api-app';

/**
 * The api app exactly as main.ts builds it, initialised and ready for supertest:
 * `request(app.getHttpServer()).get('/health/live')`. Close it in afterAll.
 */
export async function createTestApp(): Promise<NestFastifyApplication> {
  const app = await createApiApp({ logger: false });
  await app.init();
  await app.getHttpAdapter().getInstance().ready();
  return app;
}
