import { createRng } from '../model/mlp';
import { EventLog } from '../data/training-log';
import { categoryPriors, collectEngagements, DEFAULT_ALS_OPTIONS, Engagements, learnItemEmbeddings } from './implicit-als';

const DIM = 8;
const CLUSTERS = 4;

/** Users each engage with videos of one cluster (video v belongs to cluster v % CLUSTERS). */
function clustered(users: number, videos: number, perUser: number, seed: number): Engagements {
  const rng = createRng(seed);
  const rows: number[][] = [];
  for (let u = 0; u < users; u++) {
    const c = u % CLUSTERS;
    const picked = new Set<number>();
    while (picked.size < perUser) picked.add(Math.floor(rng() * (videos / CLUSTERS)) * CLUSTERS + c);
    rows.push([...picked]);
  }
  const userPtr = new Int32Array(users + 1);
  rows.forEach((r, u) => (userPtr[u + 1] = userPtr[u] + r.length));
  return { users, videos, userPtr, userVideo: Int32Array.from(rows.flat()), userWeight: new Float32Array(userPtr[users]).fill(1) };
}

const dot = (a: Float32Array, b: Float32Array) => a.reduce((s, x, i) => s + x * b[i], 0);
const unit = (d: number) => Float32Array.from({ length: DIM }, (_, i) => (i === d ? 1 : 0));

describe('learnItemEmbeddings', () => {
  it('places co-engaged videos together when no video has a content embedding', async () => {
    const data = clustered(200, 400, 15, 1);
    const { learned } = await learnItemEmbeddings(data, new Array(400).fill(null), { ...DEFAULT_ALS_OPTIONS, dim: DIM });
    let same = 0;
    let other = 0;
    let nSame = 0;
    let nOther = 0;
    for (const [i, a] of learned) {
      for (const [j, b] of learned) {
        if (i >= j) continue;
        if (i % CLUSTERS === j % CLUSTERS) (same += dot(a, b)), nSame++;
        else (other += dot(a, b)), nOther++;
      }
    }
    expect(learned.size).toBe(400);
    expect(same / nSame).toBeGreaterThan(0.5);
    expect(Math.abs(other / nOther)).toBeLessThan(0.2);
  });

  it('learns vectors in the content-embedding space for videos that have none', async () => {
    // cluster c's anchors point along axis c; half of each cluster has no content embedding
    const data = clustered(200, 400, 15, 2);
    const anchored = (v: number) => Math.floor(v / CLUSTERS) % 2 === 0;
    const anchors = Array.from({ length: 400 }, (_, v) => (anchored(v) ? unit(v % CLUSTERS) : null));
    const result = await learnItemEmbeddings(data, anchors, { ...DEFAULT_ALS_OPTIONS, dim: DIM });
    expect(result.anchored).toBe(200);
    const { learned } = result;
    expect(learned.size).toBeGreaterThan(190);
    for (const [v, vec] of learned) {
      expect(anchored(v)).toBe(false);
      expect(Math.hypot(...vec)).toBeCloseTo(1, 5);
      expect(vec[v % CLUSTERS]).toBeGreaterThan(0.8);
    }
  });

  it('leans on the category prior when a video has little engagement', async () => {
    const data = clustered(4, 8, 1, 3);
    const anchors = Array.from({ length: 8 }, () => null);
    const priors = Array.from({ length: 8 }, () => unit(5));
    const { learned } = await learnItemEmbeddings(data, anchors, { ...DEFAULT_ALS_OPTIONS, dim: DIM, priorStrength: 1000 }, priors);
    expect(learned.size).toBeGreaterThan(0);
    for (const vec of learned.values()) expect(vec[5]).toBeGreaterThan(0.99);
  });
});

describe('collectEngagements', () => {
  it('keeps user-video pairs whose summed taste weight in [from, to) is positive', () => {
    const events = new EventLog();
    events.push(1, 0, 0, 'view', 10, -1);
    events.push(2, 0, 0, 'like', null, -1);
    events.push(3, 0, 1, 'skip', 1, -1);
    events.push(4, 1, 1, 'view', 10, -1);
    events.push(5, 1, 2, 'impression', null, -1);
    events.push(10, 1, 0, 'like', null, -1);
    events.push(99, 1, 0, 'like', null, -1);
    const e = collectEngagements(events, 2, 3, 0, 10);
    expect(Array.from(e.userPtr)).toEqual([0, 1, 2]);
    expect(Array.from(e.userVideo)).toEqual([0, 1]);
    expect(Array.from(e.userWeight)).toEqual([3.5, 0.5]);
  });
});

describe('categoryPriors', () => {
  it('gives videos without content the mean direction of their category', () => {
    const priors = categoryPriors(['a', 'a', 'a', 'b'], [unit(0), unit(1), null, null], DIM);
    expect(priors[0]).toBeNull();
    expect(Array.from(priors[2]!).slice(0, 2).map((x) => +x.toFixed(4))).toEqual([0.7071, 0.7071]);
    expect(priors[3]).toBeNull();
  });
});
