import { Injectable, Type, ValidationPipe } from '@nestjs/common';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { Redis } from 'ioredis';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { ApiModule } from '../../src/app/api.module';
import { VALIDATION_OPTIONS } from '../../src/common/validation';
import { CatalogListsService } from '../../src/feed/data/catalog-lists.service';
import { CANDIDATE_SOURCES, CandidateContext, CandidateSource } from '../../src/feed/candidates/candidate-source';
import { FeedExplanation } from '../../src/feed/explain/feed-explainer';
import { FeedModule } from '../../src/feed/feed.module';
import { RedisKeys } from '../../src/redis/redis-keys';
import { insertVideos, makeVideos } from '../factories/catalog.factory';
import { userStateFrom, writeUserState, writeVideoStats } from '../factories/online-state.factory';
import { createTestDataSource, truncateAllTables } from '../support/database';
import { tokenFor } from '../support/feed-helpers';
import { createTestRedis, deleteKeysWithPrefix } from '../support/redis';
import { testRedisPrefix } from '../support/test-env';

/** The README's example source (Customize, Add a candidate source), as written there. */
@Injectable()
export class LikedCreatorsSource implements CandidateSource {
  readonly name = 'liked-creators';
  readonly defaultShare = 0.1;
  constructor(private readonly lists: CatalogListsService) {}

  fetch(ctx: CandidateContext): string[] {
    const creators = [...ctx.user.creatorAffinity]
      .filter(([, a]) => a > 0)
      .sort((a, b) => b[1] - a[1])
      .slice(0, 5);
    return creators.flatMap(([id]) => this.lists.current.byCreator.get(id) ?? []).slice(0, ctx.limit);
  }
}

const DIM = 32;

/**
 * A fork's new source registered next to the built-in ones (here by adding it to the
 * sources the feed module provides, as adding it to SOURCES does): it runs with its
 * default share, normalised with the others, and explain shows what it found.
 */
describe('a candidate source added by a fork', () => {
  let db: DataSource;
  let redis: Redis;
  let app: NestFastifyApplication;
  const videos = makeVideos(200, { prefix: 'cs', dim: DIM, creators: 20 });
  const liked = videos.slice(0, 3);
  const likedCreators = new Set(liked.map((v) => v.creatorId));
  const userId = 'cs-user';

  beforeAll(async () => {
    db = await createTestDataSource();
    await truncateAllTables(db);
    redis = createTestRedis();
    const keys = new RedisKeys(testRedisPrefix());
    await deleteKeysWithPrefix(redis, testRedisPrefix());
    await insertVideos(db, videos);
    for (const [i, v] of videos.entries()) await writeVideoStats(redis, keys, v.id, { impressions: 1000, views: 100, likes: i % 30 });
    await writeUserState(redis, keys, userId, userStateFrom(DIM, liked.map((video) => ({ type: 'like' as const, video }))));

    const moduleRef = await Test.createTestingModule({ imports: [ApiModule] })
      .overrideProvider(CANDIDATE_SOURCES)
      .useFactory({
        factory: (lists: CatalogListsService, ...registered: CandidateSource[]) => [...registered, new LikedCreatorsSource(lists)],
        inject: [CatalogListsService, ...registeredSources()],
      })
      .compile();
    app = moduleRef.createNestApplication<NestFastifyApplication>(new FastifyAdapter(), { logger: false });
    app.useGlobalPipes(new ValidationPipe(VALIDATION_OPTIONS));
    await app.init();
    await app.getHttpAdapter().getInstance().ready();
  });

  afterAll(async () => {
    await app?.close();
    await redis.quit();
    await db.destroy();
  });

  it('runs with its default share and shows in explain what it found', async () => {
    const res = await request(app.getHttpServer())
      .get('/v1/feed')
      .query({ limit: '20', explain: 'true' })
      .set({ Authorization: `Bearer ${await tokenFor(app, userId)}`, 'x-api-key': 'reelrank-admin-dev-key' })
      .expect(200);
    const explain = res.body.explain as FeedExplanation;
    const share = (name: string) => explain.sources.find((s) => s.name === name)!.share;
    const mine = explain.sources.find((s) => s.name === 'liked-creators')!;
    // Normalised with the others: a third of ann's default 0.3.
    expect(share('ann') / mine.share).toBeCloseTo(3, 3);
    expect(explain.sources.reduce((sum, s) => sum + s.share, 0)).toBeCloseTo(1, 5);
    expect(mine.returned).toBeGreaterThan(0);
    expect(explain.sources.at(-1)!.name).toBe('liked-creators');
    // Its videos reach the ranker even when a source registered before it is credited with them.
    const found = [...explain.items, ...explain.dropped].filter((c) => c.foundBy.includes('liked-creators'));
    expect(found.length).toBe(mine.returned);
    expect(found.every((c) => likedCreators.has(videos.find((v) => v.id === c.videoId)!.creatorId))).toBe(true);
  });
});

/** The source classes FeedModule registers (the `inject` list of its CANDIDATE_SOURCES provider), in its order. */
function registeredSources(): Type<CandidateSource>[] {
  const providers: unknown[] = Reflect.getMetadata('providers', FeedModule);
  const registration = providers.find((p): p is { provide: symbol; inject: Type<CandidateSource>[] } => (p as { provide?: unknown })?.provide === CANDIDATE_SOURCES);
  return registration!.inject;
}
