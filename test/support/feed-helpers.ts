import { NestFastifyApplication } from '@nestjs/platform-fastify';
import request from 'supertest';
import { TokenVerifierService } from '../../src/auth/token-verifier.service';
import { createTestApp } from './test-app';

/** The api app built with some environment variables overridden (restored once it is built). */
export async function createAppWithEnv(env: Record<string, string>): Promise<NestFastifyApplication> {
  const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  Object.assign(process.env, env);
  try {
    return await createTestApp();
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

export async function tokenFor(app: NestFastifyApplication, userId: string): Promise<string> {
  return app.get(TokenVerifierService).issue(userId);
}

export interface FeedBody {
  requestId: string;
  items: { videoId: string; creatorId: string; category: string; title: string; durationMs: number; score: number; source: string }[];
  nextCursor: string;
}

export async function getFeed(app: NestFastifyApplication, token: string, query: Record<string, string | number> = {}): Promise<FeedBody> {
  const res = await request(app.getHttpServer()).get('/v1/feed').query(query).set('Authorization', `Bearer ${token}`);
  if (res.status !== 200) throw new Error(`GET /v1/feed answered ${res.status}: ${res.text}`);
  return res.body as FeedBody;
}

/** Sum of a metric's samples whose labels include all of `labels`. */
export async function metricValue(app: NestFastifyApplication, name: string, labels: Record<string, string> = {}): Promise<number> {
  const res = await request(app.getHttpServer()).get('/metrics').expect(200);
  let total = 0;
  for (const line of res.text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) total += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return total;
}

export async function waitFor<T>(what: string, probe: () => Promise<T> | T, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
