import { NestFastifyApplication } from '@nestjs/platform-fastify';

/**
 * The api app (as createTestApp builds it) with DEMO_MODE set as given. The demo module
 * is chosen when the app module is loaded, so the app gets its own module registry: do
 * not pass provider classes imported by the test file to `app.get`, they are other copies.
 */
export async function createTestAppWithDemoMode(value: 'true' | 'false'): Promise<NestFastifyApplication> {
  const previous = process.env.DEMO_MODE;
  process.env.DEMO_MODE = value;
  try {
    let app: NestFastifyApplication | undefined;
    await jest.isolateModulesAsync(async () => {
      const { createTestApp } = await import('./test-app');
      app = await createTestApp();
    });
    return app!;
  } finally {
    if (previous === undefined) delete process.env.DEMO_MODE;
    else process.env.DEMO_MODE = previous;
  }
}
