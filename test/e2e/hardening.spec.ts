import { NestFastifyApplication } from '@nestjs/platform-fastify';
import request from 'supertest';
import { TokenVerifierService } from '../../src/auth/token-verifier.service';
import { setEnv } from '../support/env';
import { createTestApp } from '../support/test-app';

const NO_STACK = /\bat [\w.<>]+ \(|\.ts:\d+|node_modules|Error: /;

function expectCleanError(res: request.Response, status: number, message?: RegExp): void {
  expect(res.status).toBe(status);
  expect(res.headers['content-type']).toMatch(/^application\/json/);
  expect(res.body).toEqual(expect.objectContaining({ statusCode: status, error: expect.any(String), message: expect.anything() }));
  if (message) expect(JSON.stringify(res.body.message)).toMatch(message);
  expect(res.text).not.toMatch(NO_STACK);
}

describe('api hardening (demo mode, default limits)', () => {
  let app: NestFastifyApplication;
  let restore: () => void;

  beforeAll(async () => {
    restore = setEnv({ DEMO_MODE: 'true', BODY_LIMIT_BYTES: '4096', JSON_MAX_DEPTH: '16' });
    app = await createTestApp();
  });

  afterAll(async () => {
    await app.close();
    restore();
  });

  const post = (body: string | Buffer, type = 'application/json') =>
    request(app.getHttpServer()).post('/v1/demo/token').set('content-type', type).send(body);

  describe('request ids', () => {
    it('echoes an acceptable x-request-id', async () => {
      const res = await request(app.getHttpServer()).get('/health/live').set('x-request-id', 'abc-123.x:y').expect(200);
      expect(res.headers['x-request-id']).toBe('abc-123.x:y');
    });

    it('generates a UUID when there is none or it is not acceptable', async () => {
      const none = await request(app.getHttpServer()).get('/health/live');
      const hostile = await request(app.getHttpServer()).get('/health/live').set('x-request-id', 'a b<script>');
      const long = await request(app.getHttpServer()).get('/health/live').set('x-request-id', 'x'.repeat(129));
      for (const res of [none, hostile, long]) {
        expect(res.headers['x-request-id']).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
      }
      expect(none.headers['x-request-id']).not.toBe(hostile.headers['x-request-id']);
    });

    it('sets it on error answers too (unknown route, bad body)', async () => {
      const missing = await request(app.getHttpServer()).get('/nope').set('x-request-id', 'r-404');
      expect(missing.status).toBe(404);
      expect(missing.headers['x-request-id']).toBe('r-404');
      const bad = await post('{').set('x-request-id', 'r-400');
      expect(bad.status).toBe(400);
      expect(bad.headers['x-request-id']).toBe('r-400');
    });
  });

  describe('demo token endpoint', () => {
    it('issues a token the api accepts for that user', async () => {
      const res = await post(JSON.stringify({ userId: 'u_demo_1' })).expect(200);
      const { sub } = await app.get(TokenVerifierService).verify(res.body.token);
      expect(sub).toBe('u_demo_1');
    });

    it('rejects a missing, empty or malformed userId with the failing field', async () => {
      for (const body of [{}, { userId: '' }, { userId: 'a b' }, { userId: 42 }, { userId: 'x'.repeat(129) }]) {
        expectCleanError(await post(JSON.stringify(body)), 400, /userId/);
      }
      expectCleanError(await post(JSON.stringify({ userId: 'u1', admin: true })), 400, /property admin should not exist/);
    });
  });

  describe('bodies a client can break things with', () => {
    it('413 with the limit for a body over BODY_LIMIT_BYTES', async () => {
      const res = await post(JSON.stringify({ userId: 'u1', pad: 'x'.repeat(5000) }));
      expectCleanError(res, 413, /exceeds the limit of 4096 bytes/);
    });

    it('400 for malformed JSON, an empty JSON body, and non-UTF-8 bytes', async () => {
      expectCleanError(await post('{"userId": "u1",'), 400, /not valid JSON/);
      expectCleanError(await post(''), 400, /empty/);
      expectCleanError(await post(Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d])), 400);
    });

    it('400 for prototype-pollution keys, and Object.prototype stays clean', async () => {
      expectCleanError(await post('{"userId":"u1","__proto__":{"polluted":true}}'), 400);
      expectCleanError(await post('{"userId":"u1","constructor":{"prototype":{"polluted":true}}}'), 400);
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    });

    it('400 for JSON nested deeper than JSON_MAX_DEPTH, even when huge', async () => {
      expectCleanError(await post(`{"userId":"u1","x":${'['.repeat(17)}${']'.repeat(17)}}`), 400, /deeper than 16/);
      const deep = '['.repeat(2000) + ']'.repeat(2000);
      expectCleanError(await post(deep), 400, /deeper than 16/);
      // brackets inside strings do not count
      expectCleanError(await post(JSON.stringify({ userId: '[[[[[[[[[[[[[[[[[[[[' })), 400, /userId must be/);
    });

    it('400 for NUL characters, which Postgres text cannot hold', async () => {
      expectCleanError(await post('{"userId":"u\\u0000"}'), 400, /NUL/);
      const res = await request(app.getHttpServer()).get('/v1/admin/drift?x=%00').set('x-api-key', 'reelrank-admin-dev-key');
      expectCleanError(res, 400, /NUL/);
    });

    it('400 for wrong JSON types, huge numbers and arrays at the top level', async () => {
      expectCleanError(await post('[1,2,3]'), 400);
      expectCleanError(await post('"u1"'), 400);
      expectCleanError(await post('null'), 400);
      expectCleanError(await post('{"userId": 1e400}'), 400, /userId/);
      expectCleanError(await post('{"userId": 123456789012345678901234567890}'), 400, /userId/);
    });

    it('415 for a content type the api does not parse, 400 for plain text where an object is expected', async () => {
      expectCleanError(await post('<x/>', 'application/xml'), 415);
      expectCleanError(await post('', 'application/octet-stream'), 415);
      expectCleanError(await post('userId=u1', 'text/plain'), 400);
    });

    it('400 (not 500) for a form-encoded body with hostile keys', async () => {
      expectCleanError(await post('__proto__[x]=1&userId=u1', 'application/x-www-form-urlencoded'), 400);
    });
  });

  describe('URLs', () => {
    it('answers malformed percent-encoding and odd paths with a 4xx', async () => {
      for (const path of ['/v1/demo/%E0%A4%A', '/%FF', '/v1/admin/drift?limit=%FF', '/v1/admin/drift?limit=1e999']) {
        const res = await request(app.getHttpServer()).get(path).set('x-api-key', 'reelrank-admin-dev-key');
        expect(res.status).toBeGreaterThanOrEqual(400);
        expect(res.status).toBeLessThan(500);
        expect(res.text).not.toMatch(NO_STACK);
      }
    });
  });
});

describe('demo token endpoint without DEMO_MODE', () => {
  it('does not exist', async () => {
    const restore = setEnv({ DEMO_MODE: 'false' });
    const app = await createTestApp();
    try {
      const res = await request(app.getHttpServer()).post('/v1/demo/token').send({ userId: 'u1' });
      expect(res.status).toBe(404);
      const doc = await request(app.getHttpServer()).get('/docs-json').expect(200);
      expect(Object.keys(doc.body.paths)).not.toContain('/v1/demo/token');
    } finally {
      await app.close();
      restore();
    }
  });
});
