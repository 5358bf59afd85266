import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { SignJWT } from 'jose';
import { createServer } from 'node:http';
import { AddressInfo, connect } from 'node:net';
import request from 'supertest';
import { TokenVerifierService } from '../../src/auth/token-verifier.service';
import { AppConfig } from '../../src/config/app-config';
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

describe('input accepted and then lost, or a 500: refused with 400 naming the field', () => {
  let app: NestFastifyApplication;
  let restore: () => void;
  let token: string;
  const admin = (method: 'post' | 'put', body: unknown) =>
    request(app.getHttpServer())[method]('/v1/admin/videos').set('x-api-key', 'reelrank-admin-dev-key').send(body as object);
  const video = (overrides: Record<string, unknown> = {}) => ({
    id: 'v_hardening_1',
    creatorId: 'c_hardening',
    title: 'a title',
    category: 'cooking',
    durationMs: 15_000,
    ...overrides,
  });

  beforeAll(async () => {
    restore = setEnv({ THROTTLE_ENABLED: 'false' });
    app = await createTestApp();
    token = await app.get(TokenVerifierService).issue('u_hardening');
  });

  afterAll(async () => {
    await app.close();
    restore();
  });

  it.each([
    ['null', null],
    ['an ISO week date', '2026-W49-4'],
    ['an ISO ordinal date', '2026-337'],
    ['a date-time without an offset', '2026-12-03T10:00:00'],
    ['February 31st', '2026-02-31T10:00:00Z'],
    ['the year 1900', '1900-01-01T00:00:00Z'],
    ['an hour ahead', () => new Date(Date.now() + 3_600_000).toISOString()],
  ])('an event whose occurredAt is %s', async (_, value) => {
    const occurredAt = typeof value === 'function' ? value() : value;
    const res = await request(app.getHttpServer())
      .post('/v1/events')
      .set('authorization', `Bearer ${token}`)
      .send({ events: [{ eventId: 'e1', type: 'view', videoId: 'v_1', occurredAt }] });
    expectCleanError(res, 400, /events\.0\.occurredAt must/);
  });

  it('an event list holding arrays instead of events', async () => {
    const res = await request(app.getHttpServer()).post('/v1/events').set('authorization', `Bearer ${token}`).send({ events: [[]] });
    expectCleanError(res, 400, /events\.0 must be an object|each value in events must be an object/);
  });

  describe.each(['post', 'put'] as const)('%s /v1/admin/videos', (method) => {
    it.each([
      ['nested arrays', { videos: [[]] }, /videos/],
      ['a lone surrogate in title', { videos: [video({ title: 'x\ud800y' })] }, /videos\.0\.title must be well-formed Unicode/],
      ['a lone surrogate in tags[0]', { videos: [video({ tags: ['\udc00'] })] }, /videos\.0\.tags\.0 must be well-formed Unicode/],
      ['NUL in the category', { videos: [video({ category: 'a\u0000' })] }, /videos\.0\.category must not contain NUL/],
      ['an embedding of 32 x 1e308', { videos: [video({ embedding: Array(32).fill(1e308) })] }, /embedding must hold 32-bit floats/],
      ['an embedding value that rounds to 0 in 32 bits', { videos: [video({ embedding: [1e-50, ...Array(31).fill(0.1)] })] }, /embedding must hold 32-bit floats/],
      ['createdAt as an ISO week date', { videos: [video({ createdAt: '2026-W49-4' })] }, /videos\.0\.createdAt must be an RFC 3339/],
      ['createdAt in the year 9999', { videos: [video({ createdAt: '9999-01-01T00:00:00Z' })] }, /videos\.0\.createdAt must not be more than/],
      ['createdAt null', { videos: [video({ createdAt: null })] }, /videos\.0\.createdAt must be an RFC 3339/],
    ])('%s', async (_, body, message) => {
      expectCleanError(await admin(method, body), 400, message);
    });
  });

  it('a null body to POST /v1/admin/models/train (which would queue a training job with defaults)', async () => {
    const res = await request(app.getHttpServer())
      .post('/v1/admin/models/train')
      .set('x-api-key', 'reelrank-admin-dev-key')
      .set('content-type', 'application/json')
      .send('null');
    expectCleanError(res, 400, /body must be a JSON object/);
  });
});

describe('client tokens', () => {
  let app: NestFastifyApplication;
  let restore: () => void;
  const secret = new TextEncoder().encode('reelrank-dev-secret-change-me');
  const sign = (build: (jwt: SignJWT) => SignJWT, alg = 'HS256', sub = 'u_token') =>
    build(new SignJWT({}).setProtectedHeader({ alg }).setSubject(sub).setIssuedAt()).sign(secret);
  const me = (token: string) => request(app.getHttpServer()).get('/v1/me/features').set('authorization', `Bearer ${token}`);

  beforeAll(async () => {
    restore = setEnv({ THROTTLE_ENABLED: 'false', JWT_MAX_LIFETIME_S: '3600' });
    app = await createTestApp();
  });

  afterAll(async () => {
    await app.close();
    restore();
  });

  it('accepts an HS256 token with an exp within JWT_MAX_LIFETIME_S', async () => {
    await me(await sign((j) => j.setExpirationTime('30m'))).expect(200);
  });

  it.each([
    ['without exp (it would never expire)', () => sign((j) => j)],
    ['signed with the secret as HS512 (only HS256 is accepted)', () => sign((j) => j.setExpirationTime('30m'), 'HS512')],
    ['living longer than JWT_MAX_LIFETIME_S', () => sign((j) => j.setExpirationTime('2h'))],
    ['whose iat is in the future to stretch its lifetime', () => sign((j) => j.setIssuedAt(Math.floor(Date.now() / 1000) + 7200).setExpirationTime(Math.floor(Date.now() / 1000) + 9000))],
    ['whose sub contains a NUL', () => sign((j) => j.setExpirationTime('30m'), 'HS256', 'u\u0000x')],
    ['whose sub contains a lone surrogate', () => sign((j) => j.setExpirationTime('30m'), 'HS256', 'u\ud800')],
  ])('refuses a token %s with 401', async (_, make) => {
    expectCleanError(await me(await make()), 401);
  });
});

describe('slow clients', () => {
  let app: NestFastifyApplication;
  let restore: () => void;
  let port: number;

  beforeAll(async () => {
    restore = setEnv({ THROTTLE_ENABLED: 'false', HTTP_HEADERS_TIMEOUT_MS: '1000', HTTP_REQUEST_TIMEOUT_MS: '1500' });
    app = await createTestApp();
    await app.listen(0, '127.0.0.1');
    port = (app.getHttpServer().address() as AddressInfo).port;
  });

  afterAll(async () => {
    await app.close();
    restore();
  });

  /** Sends `text` and keeps the connection open without sending more; resolves with what came back and when the server closed it. */
  function hold(text: string): Promise<{ ms: number; reply: string }> {
    return new Promise((resolve, reject) => {
      const started = Date.now();
      let reply = '';
      const socket = connect(port, '127.0.0.1', () => socket.write(text));
      socket.setEncoding('utf8');
      socket.on('data', (d) => (reply += d));
      socket.on('error', reject);
      socket.on('close', () => resolve({ ms: Date.now() - started, reply }));
      setTimeout(() => socket.destroy(), 20_000).unref();
    });
  }

  it('cuts off a request whose body never completes within seconds (408)', async () => {
    const { ms, reply } = await hold('POST /v1/demo/token HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"userId":');
    expect(ms).toBeLessThan(4000);
    expect(reply).toMatch(/^HTTP\/1\.1 408/);
  });

  it('cuts off a client that never finishes its headers', async () => {
    const { ms } = await hold('GET /health/live HTTP/1.1\r\nHost: x\r\nX-Slow: ');
    expect(ms).toBeLessThan(4000);
  });

  it('defaults cut a slow client off within 30 s', () => {
    const defaults = new AppConfig();
    expect(defaults.HTTP_HEADERS_TIMEOUT_MS).toBeLessThanOrEqual(10_000);
    expect(defaults.HTTP_REQUEST_TIMEOUT_MS).toBeLessThanOrEqual(30_000);
  });
});

describe('/metrics access', () => {
  it('with METRICS_TOKEN, answers only requests bearing it', async () => {
    const restore = setEnv({ METRICS_TOKEN: 'metrics-token-0123456789' });
    const app = await createTestApp();
    try {
      expectCleanError(await request(app.getHttpServer()).get('/metrics'), 401);
      expectCleanError(await request(app.getHttpServer()).get('/metrics').set('authorization', 'Bearer wrong-token-0123456789x'), 401);
      const ok = await request(app.getHttpServer()).get('/metrics').set('authorization', 'Bearer metrics-token-0123456789').expect(200);
      expect(ok.text).toMatch(/^# HELP /m);
    } finally {
      await app.close();
      restore();
    }
  });

  it('with METRICS_PORT, serves it on that port and not on the api port', async () => {
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', () => r()));
    const metricsPort = (probe.address() as AddressInfo).port;
    await new Promise((r) => probe.close(r));
    const restore = setEnv({ METRICS_PORT: String(metricsPort), HOST: '127.0.0.1' });
    const app = await createTestApp();
    try {
      expectCleanError(await request(app.getHttpServer()).get('/metrics'), 404);
      const res = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
      expect(res.status).toBe(200);
      expect(await res.text()).toMatch(/reelrank_http_request_duration_seconds|process_cpu/);
    } finally {
      await app.close();
      restore();
    }
  });
});
