import { NestFastifyApplication } from '@nestjs/platform-fastify';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { loadConfig } from '../../src/config/app-config';
import { uniqueId } from '../factories/sequence';
import { createVideo } from '../factories/video.factory';
import { createTestDataSource } from '../support/database';
import { createTestApp } from '../support/test-app';

describe('POST /v1/admin/interactions', () => {
  let db: DataSource;
  let app: NestFastifyApplication;
  let videoId: string;
  const key = loadConfig().ADMIN_API_KEY;

  beforeAll(async () => {
    db = await createTestDataSource();
    app = await createTestApp();
    videoId = (await createVideo(db, { category: 'history' })).id;
  });

  afterAll(async () => {
    await app.close();
    await db.destroy();
  });

  const post = (body: unknown, apiKey = key) =>
    request(app.getHttpServer()).post('/v1/admin/interactions').set('x-api-key', apiKey).send(body as object);

  const logged = async (userId: string) =>
    (await db.query(`SELECT event_id, type, watch_ms, occurred_at, user_seq FROM interactions WHERE user_id = $1 ORDER BY occurred_at`, [userId])) as {
      event_id: string;
      type: string;
      watch_ms: number | null;
      occurred_at: Date;
      user_seq: string | null;
    }[];

  it('writes historical events with their own times, once per event id, and creates the user', async () => {
    const userId = uniqueId('hist');
    const events = [
      { eventId: 'h1', userId, videoId, type: 'view', occurredAt: '2019-06-01T12:00:00Z', watchMs: 4000 },
      { userId, videoId, type: 'like', occurredAt: '2019-06-01T12:00:05Z' },
    ];
    expect((await post({ events }).expect(200)).body).toEqual({ inserted: 2, duplicates: 0 });
    expect((await post({ events }).expect(200)).body).toEqual({ inserted: 0, duplicates: 2 });

    const rows = await logged(userId);
    expect(rows.map((r) => [r.event_id, r.type, r.watch_ms, new Date(r.occurred_at).toISOString(), r.user_seq])).toEqual([
      ['h1', 'view', 4000, '2019-06-01T12:00:00.000Z', null],
      [expect.stringMatching(/^h:/), 'like', null, '2019-06-01T12:00:05.000Z', null],
    ]);
    const [user] = await db.query(`SELECT id FROM users WHERE id = $1`, [userId]);
    expect(user).toEqual({ id: userId });
  });

  it('rejects the whole batch, naming each failing event, when any is invalid', async () => {
    const userId = uniqueId('hist');
    const res = await post({
      events: [
        { userId, videoId, type: 'view', occurredAt: '2019-06-01T12:00:00Z' },
        { userId, videoId: 'no-such-video', type: 'view', occurredAt: '2019-06-01T12:00:00Z' },
      ],
    }).expect(400);
    expect(JSON.stringify(res.body)).toContain('events.1.videoId must be a known video');

    const future = await post({ events: [{ userId, videoId, type: 'view', occurredAt: '2999-01-01T00:00:00Z' }] }).expect(400);
    expect(JSON.stringify(future.body)).toContain('events.0.occurredAt must not be more than');

    const shape = await post({ events: [{ userId, videoId, type: 'poke', occurredAt: 'soon' }] }).expect(400);
    expect(JSON.stringify(shape.body)).toMatch(/type must be one of/);
    expect(await logged(userId)).toEqual([]);
  });

  it('needs the admin key', async () => {
    await post({ events: [] }, 'wrong-key-123').expect(401);
  });
});
