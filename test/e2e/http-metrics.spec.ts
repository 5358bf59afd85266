import { NestFastifyApplication } from '@nestjs/platform-fastify';
import request from 'supertest';
import { createTestApp } from '../support/test-app';

const ADMIN_KEY = 'reelrank-admin-dev-key';

/** Counts of `reelrank_http_request_duration_seconds` per (method, route, status) in a /metrics text. */
function requestCounts(text: string): Map<string, number> {
  const counts = new Map<string, number>();
  const line = /^reelrank_http_request_duration_seconds_count\{([^}]*)\} (\S+)$/gm;
  for (const [, labels, value] of text.matchAll(line)) {
    const l = Object.fromEntries([...labels.matchAll(/(\w+)="([^"]*)"/g)].map(([, k, v]) => [k, v]));
    counts.set(`${l.method} ${l.route} ${l.status}`, Number(value));
  }
  return counts;
}

describe('HTTP metrics per route', () => {
  let app: NestFastifyApplication;

  beforeAll(async () => {
    app = await createTestApp();
  });

  afterAll(async () => {
    await app.close();
  });

  it('records every request by method, route pattern (not raw URL) and status', async () => {
    const server = app.getHttpServer();
    const before = requestCounts((await request(server).get('/metrics').expect(200)).text);
    await request(server).get('/v1/feed').expect(401);
    await request(server).get('/v1/admin/models/no-such-model').set('x-api-key', ADMIN_KEY).expect(404);
    await request(server).get('/v1/admin/models/another-missing-one').set('x-api-key', ADMIN_KEY).expect(404);
    await request(server).get('/no/such/path').expect(404);
    await request(server).get('/health/live').expect(200);

    const text = (await request(server).get('/metrics').expect(200)).text;
    const after = requestCounts(text);
    const delta = (key: string) => (after.get(key) ?? 0) - (before.get(key) ?? 0);
    expect(delta('GET /v1/feed 401')).toBe(1);
    expect(delta('GET /v1/admin/models/:id 404')).toBe(2);
    expect(delta('GET unmatched 404')).toBe(1);
    expect(delta('GET /health/live 200')).toBe(1);
    // Ids never become label values.
    expect(text).not.toContain('no-such-model');
    expect(text).toMatch(/^reelrank_http_request_duration_seconds_bucket\{le="0.005",method="GET",route="\/health\/live",status="200"\} \d+$/m);
  });
});
