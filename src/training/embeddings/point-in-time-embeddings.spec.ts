import { EventType } from '../../events/event-types';
import { EventLog } from '../data/training-log';
import { createRng } from '../model/mlp';
import { DEFAULT_ALS_OPTIONS } from './implicit-als';
import { EmbeddingFitInput, fitEmbeddingRefreshes, refreshPoints } from './point-in-time-embeddings';

const DIM = 8;
const USERS = 60;
const VIDEOS = 80;

/** Users of 4 taste clusters viewing and liking mostly videos of their cluster (v % 4) over 100 time units; the first half of the videos have content vectors. */
function world(until = Infinity): EmbeddingFitInput {
  const rng = createRng(4);
  const events = new EventLog();
  for (let t = 0; t < 100; t++) {
    for (let k = 0; k < 12; k++) {
      const user = Math.floor(rng() * USERS);
      const video = rng() < 0.8 ? Math.floor(rng() * (VIDEOS / 4)) * 4 + (user % 4) : Math.floor(rng() * VIDEOS);
      const type: EventType = rng() < 0.5 ? 'like' : 'view';
      const at = t + k / 100;
      if (at < until) events.push(at, user, video, type, type === 'view' ? 10_000 : null, -1);
    }
  }
  const anchors = Array.from({ length: VIDEOS }, (_, v) =>
    v < VIDEOS / 2 ? Float32Array.from({ length: DIM }, (_, d) => (d === v % 4 ? 1 : 0)) : null,
  );
  return { events, users: USERS, videos: VIDEOS, anchors, priors: [], options: { ...DEFAULT_ALS_OPTIONS, dim: DIM } };
}

describe('refreshPoints', () => {
  it('splits the range evenly and ends on its end', () => {
    expect(refreshPoints(0, 100, 4)).toEqual([25, 50, 75, 100]);
    expect(refreshPoints(10, 20, 1)).toEqual([20]);
    expect(() => refreshPoints(0, 1, 0)).toThrow(RangeError);
  });
});

describe('fitEmbeddingRefreshes', () => {
  it('fits each refresh on the events before it only: later engagement never changes it', async () => {
    const points = [25, 50, 75, 100];
    const full = await fitEmbeddingRefreshes(world(), 0, points);
    const cut = await fitEmbeddingRefreshes(world(50), 0, points);
    expect(full.map((r) => r.at)).toEqual(points);
    for (const k of [0, 1]) {
      expect(full[k].learned.size).toBeGreaterThan(10);
      expect([...cut[k].learned.keys()]).toEqual([...full[k].learned.keys()]);
      for (const [v, vec] of full[k].learned) expect(Array.from(cut[k].learned.get(v)!)).toEqual(Array.from(vec));
    }
    // the later refreshes do learn from the later events
    expect(full[3].learned.size).toBeGreaterThan(full[0].learned.size);
    const changed = [...full[3].learned].filter(([v, vec]) => Array.from(vec).join() !== Array.from(cut[3].learned.get(v) ?? []).join());
    expect(changed.length).toBeGreaterThan(full[3].learned.size / 2);
  });

  it('learns only videos without a content embedding', async () => {
    const [refresh] = await fitEmbeddingRefreshes(world(), 0, [100]);
    expect(refresh.anchored).toBe(VIDEOS / 2);
    expect(refresh.learned.size).toBeGreaterThan(VIDEOS / 4);
    for (const v of refresh.learned.keys()) expect(v).toBeGreaterThanOrEqual(VIDEOS / 2);
  });
});
