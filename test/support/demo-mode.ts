import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createTestApp } from './test-app';

/** The api app (as createTestApp builds it) with DEMO_MODE set as given; the demo modules are chosen when the app is created. */
export async function createTestAppWithDemoMode(value: 'true' | 'false'): Promise<NestFastifyApplication> {
  const previous = process.env.DEMO_MODE;
  process.env.DEMO_MODE = value;
  try {
    return await createTestApp();
  } finally {
    if (previous === undefined) delete process.env.DEMO_MODE;
    else process.env.DEMO_MODE = previous;
  }
}
