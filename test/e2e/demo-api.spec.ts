import { NestFastifyApplication } from '@nestjs/platform-fastify';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { TokenVerifierService } from '../../src/auth/token-verifier.service';
import { loadConfig } from '../../src/config/app-config';
import { ModelVersionEntity } from '../../src/database/entities';
import { applyUserEvent, CatalogVideo, emptyUserState, encodeUserState } from '../../src/features';
import { RedisKeys } from '../../src/redis/redis-keys';
import { createUser } from '../factories/user.factory';
import { createVideo } from '../factories/video.factory';
import { createTestDataSource, truncateAllTables } from '../support/database';
import { createTestAppWithDemoMode } from '../support/demo-mode';
import { createTestRedis } from '../support/redis';

const DIM = loadConfig().EMBEDDING_DIM;

const unit = (axis: number, dim = DIM) => Array.from({ length: dim }, (_, i) => (i === axis ? 1 : 0));

describe('demo endpoints (DEMO_MODE=true)', () => {
  let app: NestFastifyApplication;
  let db: DataSource;
  let token: (userId: string) => Promise<string>;

  beforeAll(async () => {
    db = await createTestDataSource();
    await truncateAllTables(db);
    await createUser(db, { id: 'u_0000001', displayName: 'user1', simTraits: { topicWeights: [0.05, 0, 0.6, 0, 0, 0, 0.3, 0, 0, 0, 0, 0.05] } });
    for (const [id, category, axis] of [
      ['v_dance_1', 'dance', 0],
      ['v_dance_2', 'dance', 0],
      ['v_cook_1', 'cooking', 1],
      ['v_tech_1', 'tech', 2],
    ] as const) {
      await createVideo(db, { id, category, title: `${category} ${id}`, embedding: unit(axis) });
    }
    await createVideo(db, { id: 'v_no_emb', category: 'tech', embedding: null });
    app = await createTestAppWithDemoMode('true');
    const verifier = new TokenVerifierService(loadConfig());
    token = (userId) => verifier.issue(userId);
  });

  afterAll(async () => {
    await app.close();
    await db.destroy();
  });

  it('serves the page at /demo/ (and redirects /demo there)', async () => {
    const server = app.getHttpServer();
    await request(server).get('/demo').expect(301).expect('location', '/demo/');
    const page = await request(server).get('/demo/').expect(200);
    expect(page.headers['content-type']).toMatch(/text\/html/);
    expect(page.text).toContain('<script src="demo.js">');
    await request(server).get('/demo/demo.js').expect(200).expect('content-type', /javascript/);
    await request(server).get('/demo/demo.css').expect(200).expect('content-type', /css/);
    await request(server).get('/demo/nope.js').expect(404);
  });

  it('lists users created on the page first, then seeded users with their hidden tastes', async () => {
    const created = await request(app.getHttpServer()).post('/v1/demo/users').send({ displayName: '  Ada ' }).expect(201);
    expect(created.body).toEqual({ id: expect.stringMatching(/^demo_[0-9a-f]{10}$/), displayName: 'Ada', simulated: false, tastes: [] });
    const res = await request(app.getHttpServer()).get('/v1/demo/users?limit=5').expect(200);
    expect(res.body.users).toEqual([
      created.body,
      { id: 'u_0000001', displayName: 'user1', simulated: true, tastes: ['cooking', 'pets'] },
    ]);
    const limited = await request(app.getHttpServer()).get('/v1/demo/users?limit=1').expect(200);
    expect(limited.body.users).toHaveLength(1);
  });

  it('rejects bad input with 400 naming the fields', async () => {
    const blank = await request(app.getHttpServer()).post('/v1/demo/users').send({ displayName: '   ', admin: true }).expect(400);
    expect(blank.body.message).toEqual(expect.arrayContaining(['property admin should not exist', 'displayName must not be blank']));
    const long = await request(app.getHttpServer()).post('/v1/demo/users').send({ displayName: 'x'.repeat(41) }).expect(400);
    expect(long.body.message.join(' ')).toMatch(/displayName/);
    const limit = await request(app.getHttpServer()).get('/v1/demo/users?limit=0').expect(400);
    expect(limit.body.message.join(' ')).toMatch(/limit/);
    const k = await request(app.getHttpServer())
      .get('/v1/demo/me/neighbours?k=abc')
      .set('authorization', `Bearer ${await token('u_0000001')}`)
      .expect(400);
    expect(k.body.message.join(' ')).toMatch(/k must/);
  });

  it('requires a token for the neighbours of "me"', async () => {
    await request(app.getHttpServer()).get('/v1/demo/me/neighbours').expect(401);
  });

  it('explains the user vector: nearest videos and categories, none before any signal', async () => {
    const server = app.getHttpServer();
    const auth = `Bearer ${await token('u_0000001')}`;
    const before = await request(server).get('/v1/demo/me/neighbours').set('authorization', auth).expect(200);
    expect(before.body).toEqual({ userId: 'u_0000001', hasEmbedding: false, videos: [], categories: [] });

    const liked: CatalogVideo = {
      id: 'v_dance_1',
      creatorId: 'c1',
      title: 'dance',
      category: 'dance',
      tags: [],
      durationMs: 15_000,
      createdAt: 0,
      embedding: Float32Array.from(unit(0)),
      active: true,
    };
    const state = emptyUserState(DIM);
    applyUserEvent(state, { eventId: 'e1', userId: 'u_0000001', videoId: liked.id, type: 'like', watchMs: null, occurredAt: Date.now() }, liked);
    const redis = createTestRedis();
    try {
      await redis.set(new RedisKeys(loadConfig().REDIS_PREFIX).userFeatures('u_0000001'), encodeUserState(state));
    } finally {
      await redis.quit();
    }

    const res = await request(server).get('/v1/demo/me/neighbours?k=3').set('authorization', auth).expect(200);
    expect(res.body.hasEmbedding).toBe(true);
    expect(res.body.videos).toHaveLength(3);
    expect(res.body.videos.slice(0, 2).map((v: { videoId: string }) => v.videoId).sort()).toEqual(['v_dance_1', 'v_dance_2']);
    expect(res.body.videos[0]).toEqual(expect.objectContaining({ category: 'dance', similarity: 1 }));
    expect(res.body.categories.map((c: { category: string }) => c.category)).toEqual(['dance', 'cooking', 'tech']);
    expect(res.body.categories[0].similarity).toBe(1);
  });

  it("explains the caller's feed without the admin key (the page's why? toggle)", async () => {
    const res = await request(app.getHttpServer())
      .get('/v1/feed?limit=3&explain=true')
      .set('Authorization', `Bearer ${await token('u_0000001')}`)
      .expect(200);
    expect(res.body.explain.items.map((i: { videoId: string }) => i.videoId)).toEqual(res.body.items.map((i: { videoId: string }) => i.videoId));
    expect(res.body.explain.modelVersion).toBe('heuristic');
  });

  it('reports the active model and the catalog', async () => {
    const server = app.getHttpServer();
    expect((await request(server).get('/v1/demo/status').expect(200)).body).toEqual({
      activeModel: null,
      catalog: { videos: 5, withEmbedding: 4 },
    });
    const activatedAt = new Date('2026-11-02T10:00:00Z');
    await db.getRepository(ModelVersionEntity).save({
      id: 'mv_demo_1',
      status: 'active',
      artifact: Buffer.from('onnx'),
      artifactSha256: 'x',
      featureSpec: {},
      metrics: { auc: 0.7 },
      activatedAt,
    });
    const res = await request(server).get('/v1/demo/status').expect(200);
    expect(res.body.activeModel).toEqual({ id: 'mv_demo_1', activatedAt: activatedAt.toISOString(), metrics: { auc: 0.7 } });
    // Not a loadable model: later suites that start an api on this database must not find it active.
    await db.getRepository(ModelVersionEntity).delete({ id: 'mv_demo_1' });
  });
});

describe('demo endpoints (DEMO_MODE off)', () => {
  let app: NestFastifyApplication;

  beforeAll(async () => {
    app = await createTestAppWithDemoMode('false');
  });

  afterAll(async () => {
    await app.close();
  });

  it('has no demo page and no demo routes', async () => {
    const server = app.getHttpServer();
    await request(server).get('/demo/').expect(404);
    await request(server).get('/demo').expect(404);
    await request(server).get('/v1/demo/users').expect(404);
    await request(server).post('/v1/demo/users').send({ displayName: 'x' }).expect(404);
    await request(server).get('/v1/demo/status').expect(404);
  });
});
