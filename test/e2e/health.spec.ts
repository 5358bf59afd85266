import { NestFastifyApplication } from '@nestjs/platform-fastify';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { REDIS } from '../../src/redis/redis.constants';
import { AnyRedis } from '../../src/redis/redis-connection';
import { WarmupService } from '../../src/lifecycle/warmup.service';
import { waitFor } from '../support/feed-helpers';
import { createTestApp } from '../support/test-app';

describe('api app (health, docs, errors)', () => {
  let app: NestFastifyApplication;

  beforeAll(async () => {
    app = await createTestApp();
  });

  afterAll(async () => {
    await app.close();
  });

  it('answers /health/live', async () => {
    const res = await request(app.getHttpServer()).get('/health/live').expect(200);
    expect(res.body).toEqual({ status: 'ok' });
  });

  it('answers /health/ready with Postgres and Redis up', async () => {
    await waitFor('the boot warm-up', async () => (await request(app.getHttpServer()).get('/health/ready')).status === 200);
    const res = await request(app.getHttpServer()).get('/health/ready').expect(200);
    expect(res.body.status).toBe('ok');
    expect(res.body.info).toEqual({
      postgres: expect.objectContaining({ status: 'up' }),
      redis: expect.objectContaining({ status: 'up' }),
      lifecycle: { status: 'up' },
      warmup: { status: 'up' },
    });
  });

  it('is not ready while boot warm-up work is running, and ready once it is done', async () => {
    let finish!: () => void;
    app.get(WarmupService).track('slow_index', new Promise<void>((r) => (finish = r)));
    const res = await request(app.getHttpServer()).get('/health/ready').expect(503);
    expect(res.body.error.warmup).toEqual({ status: 'down', waitingFor: ['slow_index'] });
    finish();
    await waitFor('the warm-up to end', async () => (await request(app.getHttpServer()).get('/health/ready')).status === 200);
  });

  it('serves the OpenAPI page at /docs and the document behind it', async () => {
    const page = await request(app.getHttpServer()).get('/docs').redirects(1).expect(200);
    expect(page.headers['content-type']).toMatch(/text\/html/);
    expect(page.text).toMatch(/swagger-ui/i);
    const doc = await request(app.getHttpServer()).get('/docs-json').expect(200);
    expect(doc.body.openapi).toMatch(/^3\./);
    expect(doc.body.info.title).toBe('Reelrank');
    expect(Object.keys(doc.body.paths)).toEqual(expect.arrayContaining(['/health/live', '/health/ready']));
  });

  it('answers an unknown route with a 404 JSON body and no stack trace', async () => {
    const res = await request(app.getHttpServer()).get('/no/such/route').expect(404);
    expect(res.headers['content-type']).toMatch(/application\/json/);
    expect(res.body).toEqual(expect.objectContaining({ statusCode: 404, message: expect.any(String) }));
    expect(res.text).not.toMatch(/stack|at \w+ \(|\.ts:\d+/);
  });
});

describe('api app after losing Redis', () => {
  let app: NestFastifyApplication;

  beforeAll(async () => {
    app = await createTestApp();
  });

  afterAll(async () => {
    await app.close();
  });

  it('reports /health/ready 503 naming redis, while /health/live stays 200', async () => {
    await waitFor('the boot warm-up', async () => (await request(app.getHttpServer()).get('/health/ready')).status === 200);
    app.get<AnyRedis>(REDIS).disconnect();
    await request(app.getHttpServer()).get('/health/live').expect(200);
    const res = await request(app.getHttpServer()).get('/health/ready').expect(503);
    expect(res.body.status).toBe('error');
    expect(res.body.error).toEqual({ redis: expect.objectContaining({ status: 'down' }) });
    expect(res.body.info).toEqual({ postgres: expect.objectContaining({ status: 'up' }), lifecycle: { status: 'up' }, warmup: { status: 'up' } });
  });
});

describe('api app after losing Postgres', () => {
  let app: NestFastifyApplication;

  beforeAll(async () => {
    app = await createTestApp();
  });

  afterAll(async () => {
    await app.close().catch(() => undefined);
  });

  it('stays ready (feeds and events do not need Postgres) and reports postgres down', async () => {
    await waitFor('the boot warm-up', async () => (await request(app.getHttpServer()).get('/health/ready')).status === 200);
    await app.get(DataSource).destroy();
    const res = await request(app.getHttpServer()).get('/health/ready').expect(200);
    expect(res.body.status).toBe('degraded');
    expect(res.body.info).toEqual({
      postgres: expect.objectContaining({ status: 'degraded' }),
      redis: expect.objectContaining({ status: 'up' }),
      lifecycle: { status: 'up' },
      warmup: { status: 'up' },
    });
  });
});
