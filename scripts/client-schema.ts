import openapiTS, { astToString, COMMENT_HEADER, OpenAPI3 } from 'openapi-typescript';
import { createApiApp } from '../src/app/create-api-app';

export const CLIENT_SCHEMA_PATH = 'clients/typescript/src/schema.d.ts';

/** The OpenAPI document the api serves at /docs-json, with the demo endpoints (DEMO_MODE=true). */
export async function servedOpenApiDocument(): Promise<OpenAPI3> {
  const previous = process.env.DEMO_MODE;
  process.env.DEMO_MODE = 'true';
  try {
    const app = await createApiApp({ logger: false });
    try {
      await app.init();
      const fastify = app.getHttpAdapter().getInstance();
      await fastify.ready();
      const res = await fastify.inject({ method: 'GET', url: '/docs-json' });
      if (res.statusCode !== 200) throw new Error(`/docs-json answered ${res.statusCode}`);
      return JSON.parse(res.body) as OpenAPI3;
    } finally {
      await app.close();
    }
  } finally {
    if (previous === undefined) delete process.env.DEMO_MODE;
    else process.env.DEMO_MODE = previous;
  }
}

/** The client's schema.d.ts for an OpenAPI document (openapi-typescript). */
export async function clientSchemaSource(doc: OpenAPI3): Promise<string> {
  return COMMENT_HEADER + astToString(await openapiTS(doc));
}
