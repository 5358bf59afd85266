import { NestFastifyApplication } from '@nestjs/platform-fastify';
import request from 'supertest';
import { createTestAppWithDemoMode } from '../support/demo-mode';

type Schema = {
  $ref?: string;
  type?: string;
  format?: string;
  example?: unknown;
  enum?: unknown[];
  default?: unknown;
  items?: Schema;
  properties?: Record<string, Schema>;
  required?: string[];
  allOf?: Schema[];
};
type Media = { schema?: Schema; example?: unknown; examples?: Record<string, unknown> };
type Operation = {
  summary?: string;
  requestBody?: { content: Record<string, Media> };
  responses: Record<string, { content?: Record<string, Media> }>;
};
interface OpenApiDocument {
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, Schema> };
}

const METHODS = new Set(['get', 'put', 'post', 'delete', 'patch']);

function operations(doc: OpenApiDocument): { id: string; op: Operation }[] {
  return Object.entries(doc.paths).flatMap(([path, item]) =>
    Object.entries(item)
      .filter(([method]) => METHODS.has(method))
      .map(([method, op]) => ({ id: `${method.toUpperCase()} ${path}`, op })),
  );
}

/**
 * Whether a schema yields a complete example: its own `example` (or an enum value or
 * default), or every required property does, recursively; binary uploads need none.
 */
function hasExample(doc: OpenApiDocument, schema: Schema | undefined, depth = 0): boolean {
  if (!schema || depth > 10) return false;
  if (schema.$ref) return hasExample(doc, doc.components.schemas[schema.$ref.split('/').pop()!], depth + 1);
  if (schema.example !== undefined || schema.enum?.length || schema.default !== undefined || schema.format === 'binary') return true;
  if (schema.allOf) return schema.allOf.some((s) => hasExample(doc, s, depth + 1));
  if (schema.type === 'array') return hasExample(doc, schema.items, depth + 1);
  if (schema.properties) return (schema.required ?? []).every((name) => hasExample(doc, schema.properties![name], depth + 1));
  return false;
}

const mediaHasExample = (doc: OpenApiDocument, media: Media) =>
  media.example !== undefined || (media.examples && Object.keys(media.examples).length > 0) || hasExample(doc, media.schema);

describe('OpenAPI document', () => {
  let app: NestFastifyApplication;
  let doc: OpenApiDocument;

  beforeAll(async () => {
    app = await createTestAppWithDemoMode('true');
    doc = (await request(app.getHttpServer()).get('/docs-json').expect(200)).body;
  });

  afterAll(async () => {
    await app.close();
  });

  it('documents the whole api (demo mode on)', () => {
    const ids = operations(doc).map((o) => o.id);
    expect(ids.length).toBeGreaterThanOrEqual(24);
    expect(ids).toEqual(expect.arrayContaining(['GET /v1/feed', 'POST /v1/events', 'GET /v1/me/features', 'POST /v1/demo/token']));
  });

  it('gives every operation a summary', () => {
    const missing = operations(doc)
      .filter(({ op }) => !op.summary?.trim())
      .map((o) => o.id);
    expect(missing).toEqual([]);
  });

  it('gives every request body and every successful JSON answer an example', () => {
    const missing: string[] = [];
    for (const { id, op } of operations(doc)) {
      for (const [type, media] of Object.entries(op.requestBody?.content ?? {})) {
        if (!mediaHasExample(doc, media)) missing.push(`${id} request ${type}`);
      }
      const success = Object.entries(op.responses).filter(([status]) => status.startsWith('2'));
      if (success.length === 0) missing.push(`${id}: no success response documented`);
      for (const [status, response] of success) {
        const json = response.content?.['application/json'];
        if (!json || !mediaHasExample(doc, json)) missing.push(`${id} ${status}`);
      }
    }
    expect(missing).toEqual([]);
  });

  it('the example check finds a missing one (so the test above can fail)', () => {
    const bare: OpenApiDocument = { paths: {}, components: { schemas: { Page: { type: 'object', required: ['id'], properties: { id: { type: 'string' } } } } } };
    expect(hasExample(bare, { $ref: '#/components/schemas/Page' })).toBe(false);
    bare.components.schemas.Page.properties!.id.example = 'x';
    expect(hasExample(bare, { $ref: '#/components/schemas/Page' })).toBe(true);
  });
});
