import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { TokenVerifierService } from '../../src/auth/token-verifier.service';
import { setEnv } from '../support/env';
import { createTestApp } from '../support/test-app';

const ADMIN_KEY = 'reelrank-admin-dev-key';

// Behind a load balancer on loopback, as the README sets it up: X-Forwarded-For gives each test client its own IP.
describe('rate limits', () => {
  let app: NestFastifyApplication;
  let restore: () => void;
  let tokens: TokenVerifierService;
  // Each test uses its own client IPs and users: counters live in Redis for the whole window.
  const ip = () => `10.${Math.floor(Math.random() * 255)}.${Math.floor(Math.random() * 255)}.${Math.floor(Math.random() * 254) + 1}`;

  beforeAll(async () => {
    restore = setEnv({ TRUST_PROXY: 'loopback', THROTTLE_ENABLED: 'true', THROTTLE_REDIS_TIMEOUT_MS: '5000', THROTTLE_IP_LIMIT: '6', THROTTLE_USER_LIMIT: '3', THROTTLE_WINDOW_S: '30' });
    app = await createTestApp();
    tokens = app.get(TokenVerifierService);
  });

  afterAll(async () => {
    await app.close();
    restore();
  });

  const drift = (clientIp: string, token?: string) => {
    const req = request(app.getHttpServer()).get('/v1/admin/drift').set('x-forwarded-for', clientIp).set('x-api-key', ADMIN_KEY);
    return token ? req.set('authorization', `Bearer ${token}`) : req;
  };

  it('refuses the request over the per-IP limit with 429, Retry-After and a JSON body', async () => {
    const client = ip();
    for (let i = 0; i < 6; i++) await drift(client).expect(200);
    const res = await drift(client).expect(429);
    expect(Number(res.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(Number(res.headers['retry-after'])).toBeLessThanOrEqual(30);
    expect(res.body).toEqual({ statusCode: 429, error: 'Too Many Requests', message: expect.stringMatching(/Retry-After/) });
    // another client is unaffected
    await drift(ip()).expect(200);
  });

  it('counts a user across IPs, and keeps users behind one IP apart', async () => {
    const alice = await tokens.issue(`alice-${randomUUID()}`);
    const bob = await tokens.issue(`bob-${randomUUID()}`);
    for (let i = 0; i < 3; i++) await drift(ip(), alice).expect(200);
    await drift(ip(), alice).expect(429);
    const shared = ip();
    await drift(shared, bob).expect(200);
    await drift(shared, bob).expect(200);
  });

  it('does not let a forged or invalid token pick someone else’s budget', async () => {
    const victim = `victim-${randomUUID()}`;
    const forged = `${Buffer.from('{"alg":"HS256"}').toString('base64url')}.${Buffer.from(JSON.stringify({ sub: victim })).toString('base64url')}.x`;
    for (let i = 0; i < 5; i++) await drift(ip(), forged).expect(200);
    await drift(ip(), await tokens.issue(victim)).expect(200);
  });

  it('never limits health checks or metrics scrapes', async () => {
    const client = ip();
    for (let i = 0; i < 12; i++) {
      await request(app.getHttpServer()).get('/health/live').set('x-forwarded-for', client).expect(200);
      await request(app.getHttpServer()).get('/metrics').set('x-forwarded-for', client).expect(200);
    }
    await request(app.getHttpServer()).get('/docs-json').set('x-forwarded-for', client).expect(200);
    await drift(client).expect(200);
  });

  it('limits requests refused by auth as well (no free guessing of keys)', async () => {
    const client = ip();
    for (let i = 0; i < 6; i++) {
      await request(app.getHttpServer()).get('/v1/admin/drift').set('x-forwarded-for', client).set('x-api-key', `guess-${i}xxxxxxxxx`).expect(401);
    }
    await request(app.getHttpServer()).get('/v1/admin/drift').set('x-forwarded-for', client).set('x-api-key', ADMIN_KEY).expect(429);
  });
});

describe('rate limits with the default TRUST_PROXY', () => {
  it('ignores X-Forwarded-For, so a client cannot escape its IP limit by naming other addresses', async () => {
    const restore = setEnv({ TRUST_PROXY: undefined, THROTTLE_ENABLED: 'true', THROTTLE_IP_LIMIT: '3', THROTTLE_WINDOW_S: '30' });
    const app = await createTestApp();
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 5; i++) {
        const res = await request(app.getHttpServer()).get('/v1/admin/drift').set('x-api-key', ADMIN_KEY).set('x-forwarded-for', `10.9.8.${i + 1}`);
        statuses.push(res.status);
      }
      expect(statuses).toEqual([200, 200, 200, 429, 429]);
    } finally {
      await app.close();
      restore();
    }
  });
});

describe('rate limits switched off', () => {
  it('never answers 429 with THROTTLE_ENABLED=false', async () => {
    const restore = setEnv({ THROTTLE_ENABLED: 'false', THROTTLE_IP_LIMIT: '1' });
    const app = await createTestApp();
    try {
      for (let i = 0; i < 4; i++) {
        await request(app.getHttpServer()).get('/v1/admin/drift').set('x-api-key', ADMIN_KEY).expect(200);
      }
    } finally {
      await app.close();
      restore();
    }
  });
});
