import request from 'supertest';
import { TokenVerifierService } from '../../src/auth/token-verifier.service';
import { NeighbourIndexService } from '../../src/neighbours/neighbour-index.service';
import { ItemNeighboursRepository } from '../../src/neighbours/item-neighbours.repository';
import { uniqueId } from '../factories/sequence';
import { eventually } from '../support/test-worker';
import { PipelineWorld, startPipelineWorld } from '../support/pipeline-world';

const ADMIN = { 'x-api-key': 'reelrank-admin-dev-key' };

interface ExplainedPage {
  items: { videoId: string; foundBy: string[]; features: Record<string, number> }[];
}

/**
 * The user's recent videos are the item-to-item source's input and the history features'
 * (the sequence the feed ranks on): an event accepted through the api reaches the very
 * next feed through the worker and the user's online state, with no training in between.
 */
describe('feed history: the next feed ranks on the event just accepted', () => {
  let world: PipelineWorld;

  beforeAll(async () => {
    world = await startPipelineWorld(30);
    const { app, videos } = world;
    // Co-engagement neighbours as a training run stores them: video 0 -> 10, 11; video 1 -> 20.
    const row = (ids: number[]) => ids;
    const lists = new Map<number, number[]>([
      [0, row([10, 11])],
      [1, row([20])],
    ]);
    const offsets = new Int32Array(videos.length + 1);
    const neighbours: number[] = [];
    for (let v = 0; v < videos.length; v++) {
      neighbours.push(...(lists.get(v) ?? []));
      offsets[v + 1] = neighbours.length;
    }
    await app.get(ItemNeighboursRepository).write({
      version: 'history-spec',
      videoIds: videos,
      offsets,
      neighbours: Int32Array.from(neighbours),
      co: new Float32Array(neighbours.length).fill(3),
      next: new Float32Array(neighbours.length).fill(2),
      engagements: new Float32Array(videos.length).fill(4),
    });
    await app.get(NeighbourIndexService).load('history-spec');
    expect(app.get(NeighbourIndexService).version).toBe('history-spec');
  });

  afterAll(async () => {
    await world?.close();
  });

  const explainedFeed = async (token: string): Promise<ExplainedPage> =>
    (await request(world.app.getHttpServer()).get('/v1/feed?limit=10&explain=true').set('authorization', `Bearer ${token}`).set(ADMIN).expect(200))
      .body.explain as ExplainedPage;

  const i2iOf = (page: ExplainedPage) => page.items.filter((i) => i.foundBy.includes('i2i')).map((i) => i.videoId);

  it('retrieves and ranks the neighbours of a video the moment its like is processed', async () => {
    const { app, videos } = world;
    const token = await app.get(TokenVerifierService).issue(uniqueId('hist'));
    expect(i2iOf(await explainedFeed(token))).toEqual([]);

    await request(app.getHttpServer())
      .post('/v1/events')
      .set('authorization', `Bearer ${token}`)
      .send({ events: [{ eventId: uniqueId('e'), type: 'like', videoId: videos[0] }] })
      .expect(202);
    let page: ExplainedPage | null = null;
    await eventually(async () => {
      page = await explainedFeed(token);
      return i2iOf(page).length > 0;
    }, 'the liked video in the next feed', 5000);
    expect(new Set(i2iOf(page!))).toEqual(new Set([videos[10], videos[11]]));
    // Ranked on it: the neighbours carry the history score, and lead the page.
    const first = page!.items[0];
    expect([videos[10], videos[11]]).toContain(first.videoId);
    expect(first.features.history_similarity).toBeGreaterThan(0);

    // The next event moves the sequence on: its neighbour joins, the most recent counting most.
    await request(app.getHttpServer())
      .post('/v1/events')
      .set('authorization', `Bearer ${token}`)
      .send({ events: [{ eventId: uniqueId('e'), type: 'like', videoId: videos[1] }] })
      .expect(202);
    await eventually(async () => {
      page = await explainedFeed(token);
      return i2iOf(page).includes(videos[20]);
    }, 'the second like in the next feed', 5000);
    expect(page!.items[0].videoId).toBe(videos[20]);
  });
});
