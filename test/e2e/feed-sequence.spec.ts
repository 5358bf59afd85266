import request from 'supertest';
import { TokenVerifierService } from '../../src/auth/token-verifier.service';
import { SequenceModelRepository } from '../../src/sequence/sequence-model.repository';
import { SequenceIndexService } from '../../src/sequence/sequence-index.service';
import { SEQUENCE_TYPES } from '../../src/features/sequence-scores';
import { exportSequenceEncoderToOnnx, trainSequenceModel } from '../../src/training/sequence';
import { uniqueId } from '../factories/sequence';
import { eventually } from '../support/test-worker';
import { setEnv } from '../support/env';
import { PipelineWorld, startPipelineWorld } from '../support/pipeline-world';

const ADMIN = { 'x-api-key': 'reelrank-admin-dev-key' };
const VIDEOS = 300;

interface ExplainedPage {
  items: { videoId: string; foundBy: string[] }[];
  dropped: { videoId: string; foundBy: string[] }[];
}

/**
 * The sequence model's input is the user's online recent list: an event accepted through
 * the api reaches the next feed's encoder inference (and the `sequence` source it
 * retrieves with) through the worker, with no training in between.
 */
describe('feed sequence: the next feed encodes the event just accepted', () => {
  let world: PipelineWorld;
  let restoreEnv: () => void;

  beforeAll(async () => {
    // A small candidate budget: the sequence source brings its few best, not most of the catalog.
    restoreEnv = setEnv({ FEED_CANDIDATES: '50' });
    world = await startPipelineWorld(VIDEOS);
    const { app, videos } = world;
    // A model that has learned one order: video k is followed by video k + 1 (items are index + 1).
    const sequences = Array.from({ length: 2 * VIDEOS }, (_, s) => {
      const start = s % (VIDEOS - 6);
      return Int32Array.from({ length: 6 }, (_, k) => start + k + 1);
    });
    // Liked, as the test's events are (type 1, a strong engagement).
    const types = sequences.map((seq) => new Int32Array(seq.length).fill(1));
    const model = await trainSequenceModel({ sequences, types, numItems: VIDEOS, numTypes: SEQUENCE_TYPES }, { epochs: 30, dim: 16, negatives: 16, seed: 3, dropout: 0 });
    await app.get(SequenceModelRepository).write({
      version: 'sequence-spec',
      videoIds: videos,
      dim: model.dim,
      maxLength: model.maxLength,
      encoder: exportSequenceEncoderToOnnx(model),
      itemVectors: model.itemEmbeddings.subarray(model.dim),
    });
    await app.get(SequenceIndexService).load('sequence-spec');
    expect(app.get(SequenceIndexService).version).toBe('sequence-spec');
  }, 120_000);

  afterAll(async () => {
    await world?.close();
    restoreEnv();
  });

  const explainedFeed = async (token: string): Promise<ExplainedPage> =>
    (await request(world.app.getHttpServer()).get('/v1/feed?limit=10&explain=true').set('authorization', `Bearer ${token}`).set(ADMIN).expect(200))
      .body.explain as ExplainedPage;
  /** What the sequence source found for the request, on the page or not. */
  const fromSequence = (page: ExplainedPage) => [...page.items, ...page.dropped].filter((i) => i.foundBy.includes('sequence')).map((i) => i.videoId);
  const like = (token: string, videoId: string) =>
    request(world.app.getHttpServer())
      .post('/v1/events')
      .set('authorization', `Bearer ${token}`)
      .send({ events: [{ eventId: uniqueId('e'), type: 'like', videoId }] })
      .expect(202);

  it('retrieves what follows the liked video the moment the like is processed, and moves on with the next one', async () => {
    const { app, videos } = world;
    const token = await app.get(TokenVerifierService).issue(uniqueId('seq'));
    // A new user has no sequence: the source finds nothing.
    expect(fromSequence(await explainedFeed(token))).toEqual([]);

    await like(token, videos[3]);
    let page: ExplainedPage | null = null;
    await eventually(async () => {
      page = await explainedFeed(token);
      return fromSequence(page).includes(videos[4]);
    }, 'the video that follows the liked one, from the sequence source', 5000);

    await like(token, videos[4]);
    await like(token, videos[5]);
    await eventually(async () => {
      page = await explainedFeed(token);
      return fromSequence(page).includes(videos[6]);
    }, 'the video that follows the latest like', 5000);
  });
});
