import { INestApplicationContext } from '@nestjs/common';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { TokenVerifierService } from '../../src/auth/token-verifier.service';
import { AcceptedEventsRepository } from '../../src/events/accepted-events.repository';
import { EventQueueShards } from '../../src/queue/event-queue-shards';
import { uniqueId } from '../factories/sequence';
import { createVideo } from '../factories/video.factory';
import { createTestDataSource } from '../support/database';
import { PipelineWorld, startPipelineWorld } from '../support/pipeline-world';
import { createCatalog } from '../support/events';
import { createTestApp } from '../support/test-app';
import { eventually, waitForQueuesIdle } from '../support/test-worker';

describe('POST /v1/events and GET /v1/me/features', () => {
  let world: PipelineWorld;
  let db: DataSource;
  let app: NestFastifyApplication;
  let worker: INestApplicationContext;
  let videos: string[];

  beforeAll(async () => {
    world = await startPipelineWorld(10);
    ({ db, app, worker, videos } = world);
  });

  afterAll(async () => {
    await world.close();
  });

  /** A client authenticated as `userId`. */
  async function as(userId: string) {
    const token = await app.get(TokenVerifierService).issue(userId);
    return {
      post: (events: object[]) => request(app.getHttpServer()).post('/v1/events').set('authorization', `Bearer ${token}`).send({ events }),
      postRaw: (body: unknown) => request(app.getHttpServer()).post('/v1/events').set('authorization', `Bearer ${token}`).send(body as object),
      features: () => request(app.getHttpServer()).get('/v1/me/features').set('authorization', `Bearer ${token}`),
    };
  }

  async function loggedCount(userId: string): Promise<number> {
    const [{ n }] = await db.query(`SELECT count(*)::int AS n FROM interactions WHERE user_id = $1`, [userId]);
    return n;
  }

  it('accepts events for a video added to Postgres that this process has not heard of yet, and applies them with the video', async () => {
    // Written straight to Postgres: no catalog message reaches the api or the worker.
    const fresh = await createVideo(db, { category: 'origami' });
    const userId = uniqueId('u');
    const user = await as(userId);
    await user.post([{ eventId: 'n1', type: 'like', videoId: fresh.id }]).expect(202);
    await eventually(async () => (await loggedCount(userId)) === 1, 'the event in the interactions log');
    const body = (await user.features().expect(200)).body;
    // The worker knew the video too: its category counts for the user.
    expect(Object.keys(body.categoryAffinity)).toContain('origami');
  });

  it('requires a bearer token', async () => {
    await request(app.getHttpServer()).post('/v1/events').send({ events: [] }).expect(401);
    await request(app.getHttpServer()).get('/v1/me/features').expect(401);
  });

  it('reflects accepted events in the caller’s features (read your writes)', async () => {
    const userId = uniqueId('u');
    const user = await as(userId);
    const liked = videos[0];
    const res = await user.post([
      { eventId: 'a1', type: 'view', videoId: liked, watchMs: 9000 },
      { eventId: 'a2', type: 'like', videoId: liked },
      { eventId: 'a3', type: 'skip', videoId: videos[1], watchMs: 700 },
    ]).expect(202);
    expect(res.body).toEqual({ accepted: 3, duplicates: 0 });

    let body: Record<string, any> = {};
    await eventually(async () => {
      body = (await user.features().expect(200)).body;
      return body.eventsApplied === 3 && body.freshness.pipeline !== null;
    }, 'features to show the 3 events', 5000);
    expect(body.counts).toMatchObject({ view: 1, like: 1, skip: 1 });
    expect(body.features.user_like_rate).toBeGreaterThan(0);
    expect(body.seenCount).toBe(2);
    expect(body.embedding.some((x: number) => x !== 0)).toBe(true);
    expect(body.freshness.lagMs).toBeGreaterThanOrEqual(0);
    expect(body.freshness.pipeline).toEqual({ lagMs: expect.any(Number), at: expect.any(String) });
    expect(Date.parse(body.lastEventAt)).toBeGreaterThan(Date.now() - 60_000);
    await eventually(async () => (await loggedCount(userId)) === 3, 'the log to hold the 3 events');
  });

  it('ignores duplicates within a request and across requests', async () => {
    const userId = uniqueId('u');
    const user = await as(userId);
    const e = (id: string) => ({ eventId: id, type: 'view', videoId: videos[2], watchMs: 1000 });
    expect((await user.post([e('d1'), e('d2'), e('d1')]).expect(202)).body).toEqual({ accepted: 2, duplicates: 1 });
    expect((await user.post([e('d2'), e('d3')]).expect(202)).body).toEqual({ accepted: 1, duplicates: 1 });
    expect((await user.post([e('d1'), e('d2'), e('d3')]).expect(202)).body).toEqual({ accepted: 0, duplicates: 3 });
    await waitForQueuesIdle(worker);
    expect((await user.features()).body.counts.view).toBe(3);
    expect(await loggedCount(userId)).toBe(3);
  });

  it('rejects bad events naming each failing field, and leaves other requests unaffected', async () => {
    const [bad, good] = [uniqueId('u'), uniqueId('u')];
    const [badUser, goodUser] = [await as(bad), await as(good)];
    const res = await badUser.post([
      { eventId: 'ok', type: 'view', videoId: videos[3] },
      { eventId: 'b1', type: 'liked', videoId: videos[3] },
      { eventId: '', type: 'view', videoId: videos[3], watchMs: -1 },
      { eventId: 'b3', type: 'view', videoId: videos[3], occurredAt: 'yesterday', extra: true },
      { eventId: 'x'.repeat(129), type: 'view' },
    ]).expect(400);
    expect(res.body.message).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^events\.1\.type must be one of/),
        expect.stringMatching(/^events\.2\.eventId /),
        expect.stringMatching(/^events\.2\.watchMs must not be less than 0/),
        expect.stringMatching(/^events\.3\.occurredAt /),
        expect.stringMatching(/^events\.3\.property extra should not exist/),
        expect.stringMatching(/^events\.4\.eventId /),
        expect.stringMatching(/^events\.4\.videoId /),
      ]),
    );
    expect(res.body.message.some((m: string) => m.startsWith('events.0'))).toBe(false);

    const future = new Date(Date.now() + 3_600_000).toISOString();
    const semantic = await badUser.post([
      { eventId: 's1', type: 'view', videoId: 'no-such-video' },
      { eventId: 's2', type: 'view', videoId: videos[3], occurredAt: future },
    ]).expect(400);
    // A time past the clock skew is refused by validation itself, before the videos are looked up.
    expect(semantic.body.message).toEqual([expect.stringMatching(/^events\.1\.occurredAt must not be more than/)]);
    const unknown = await badUser.post([{ eventId: 's1', type: 'view', videoId: 'no-such-video' }]).expect(400);
    expect(unknown.body.message).toEqual(['events.0.videoId must be a known video']);

    for (const body of [{}, { events: [] }, { events: 'x' }, { events: [null] }, { events: [{}] }]) {
      const r = await badUser.postRaw(body);
      expect(r.status).toBe(400);
      expect(r.body.message.join(' ')).toMatch(/events/);
    }
    const tooMany = Array.from({ length: 501 }, (_, i) => ({ eventId: `m${i}`, type: 'view', videoId: videos[3] }));
    expect((await badUser.post(tooMany).expect(400)).body.message).toEqual(['events must contain no more than 500 elements']);

    expect((await goodUser.post([{ eventId: 'g1', type: 'like', videoId: videos[3] }]).expect(202)).body.accepted).toBe(1);
    await waitForQueuesIdle(worker);
    expect((await goodUser.features()).body.counts.like).toBe(1);
    expect((await badUser.features()).body.eventsApplied).toBe(0);
    expect(await loggedCount(bad)).toBe(0);
    // Nothing from a rejected request was marked as accepted: the corrected request goes through.
    expect((await badUser.post([{ eventId: 'ok', type: 'view', videoId: videos[3] }]).expect(202)).body.accepted).toBe(1);
  });

  it('answers 413 to a body over the size limit', async () => {
    const big = Array.from({ length: 500 }, (_, i) => ({ eventId: `${i}`.padEnd(128, 'x'), type: 'view', videoId: videos[4], requestId: 'r'.repeat(128), pad: 'y'.repeat(2000) }));
    const res = await (await as(uniqueId('u'))).post(big);
    expect(res.status).toBe(413);
    expect(res.text).not.toMatch(/stack|\.ts:\d+/);
  });

  it('counts ingested events on /metrics', async () => {
    const res = await request(app.getHttpServer()).get('/metrics').expect(200);
    expect(res.text).toMatch(/reelrank_events_ingested_total\{outcome="accepted"\} [1-9]/);
    expect(res.text).toMatch(/reelrank_events_ingested_total\{outcome="duplicate"\} [1-9]/);
  });
});

describe('POST /v1/events when the queue is down', () => {
  let db: DataSource;
  let app: NestFastifyApplication;
  let videos: string[];

  beforeAll(async () => {
    db = await createTestDataSource();
    videos = await createCatalog(db, 1);
    app = await createTestApp();
  });

  afterAll(async () => {
    await app.close();
    await db.destroy();
  });

  it('answers 503 and records no ids, so the client’s retry is accepted', async () => {
    const userId = uniqueId('u');
    const token = await app.get(TokenVerifierService).issue(userId);
    await app.get(EventQueueShards).queueOf(userId).close();
    const res = await request(app.getHttpServer())
      .post('/v1/events')
      .set('authorization', `Bearer ${token}`)
      .send({ events: [{ eventId: 'q1', type: 'like', videoId: videos[0] }] })
      .expect(503);
    expect(res.body.message).toMatch(/retry/);
    expect(res.headers['retry-after']).toBe('5');
    expect(res.body).not.toHaveProperty('retryAfter');
    expect(await app.get(AcceptedEventsRepository).markAccepted(userId, ['q1'], Date.now())).toEqual([true]);
  });
});
