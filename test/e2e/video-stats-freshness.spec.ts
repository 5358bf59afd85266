import { INestApplicationContext } from '@nestjs/common';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { TokenVerifierService } from '../../src/auth/token-verifier.service';
import { CatalogSnapshotService } from '../../src/catalog/catalog-snapshot.service';
import { ReplayService } from '../../src/events/replay.service';
import { VideoStatsCache } from '../../src/feed/data/video-stats-cache';
import { uniqueId } from '../factories/sequence';
import { setEnv } from '../support/env';
import { eventually } from '../support/test-worker';
import { PipelineWorld, startPipelineWorld } from '../support/pipeline-world';

/**
 * The api's near cache of video stats with a long max age (60 s): the worker's
 * announcements of changed videos are what keeps it fresh, end to end through Redis.
 */
describe('video stats near cache, kept fresh by the worker', () => {
  let world: PipelineWorld;
  let db: DataSource;
  let app: NestFastifyApplication;
  let worker: INestApplicationContext;
  let videos: string[];
  let restore: () => void;

  beforeAll(async () => {
    restore = setEnv({ FEED_STATS_MAX_AGE_MS: '60000' });
    world = await startPipelineWorld(6);
    ({ db, app, worker, videos } = world);
  });

  afterAll(async () => {
    await world.close();
    restore();
  });

  const viewsOf = async (videoId: string) => {
    const catalog = app.get(CatalogSnapshotService);
    const candidates = { videos: [catalog.get(videoId)!], ordinals: [catalog.findOrdinal(videoId)] };
    return (await app.get(VideoStatsCache).hydrate(candidates, Date.now())).stats[0].views;
  };

  it('serves the new counts within moments of an event, not after the max age', async () => {
    expect(await viewsOf(videos[0])).toBe(0);
    expect(await viewsOf(videos[1])).toBe(0);
    const token = await app.get(TokenVerifierService).issue(uniqueId('u'));
    await request(app.getHttpServer())
      .post('/v1/events')
      .set('authorization', `Bearer ${token}`)
      .send({ events: [{ eventId: 'e1', type: 'view', videoId: videos[0], watchMs: 4000 }] })
      .expect(202);
    await eventually(async () => (await viewsOf(videos[0])) === 1, 'the view in the api cache', 5000);
    // The other video was not announced: still served from the cache.
    expect(await viewsOf(videos[1])).toBe(0);
  });

  it('refetches everything after a replay rebuilt the online state', async () => {
    expect(await viewsOf(videos[0])).toBe(1);
    // A second view reaches the log without the pipeline (as if written by another system):
    // nothing announces it, so the api keeps serving its cached count...
    await db.query(
      `INSERT INTO interactions (event_id, user_id, video_id, type, watch_ms, occurred_at, received_at, user_seq)
       VALUES ('direct-1', $1, $2, 'view', 3000, now(), now(), 1)`,
      [uniqueId('u'), videos[0]],
    );
    expect(await viewsOf(videos[0])).toBe(1);
    // ...until the replay rebuilds Redis from the log and tells every api to refetch.
    const report = await worker.get(ReplayService).rebuild();
    expect(report.events).toBe(2);
    await eventually(async () => (await viewsOf(videos[0])) === 2, 'the rebuilt count in the api cache', 5000);
  });
});
