import { EventRecord } from '../../src/importer/import-records';
import { EaseRecommender, invertSpdInPlace } from './ease';
import { ItemKnnRecommender } from './item-knn';
import { PopularityRecommender } from './popularity';
import { RankingTally } from './ranking-tally';
import { TrainingMatrix, topScores } from './training-matrix';

function history(spec: Record<string, string[]>): EventRecord[] {
  const events: EventRecord[] = [];
  let t = 0;
  for (const [userId, videos] of Object.entries(spec)) {
    for (const videoId of videos) events.push({ eventId: `${userId}${videoId}`, userId, videoId, type: 'view', watchMs: null, occurredAt: ++t });
  }
  return events;
}

// a's next video is v3: it co-occurs with a's v1 and v2, while v4 is the most popular overall.
const CO = history({ a: ['v1', 'v2'], b: ['v1', 'v3'], c: ['v1', 'v3'], d: ['v2', 'v3'], e: ['v4', 'v5'], f: ['v4', 'v5'], g: ['v4', 'v5'], h: ['v4'] });

describe('baselines', () => {
  it('popularity: most users first, own items skipped', () => {
    const pop = new PopularityRecommender(new TrainingMatrix(CO));
    expect(pop.recommend('a', 3)).toEqual(['v4', 'v3', 'v5']);
    expect(pop.recommend('e', 2)).toEqual(['v1', 'v3']);
  });

  it('item-kNN: cosine neighbours of the history, only co-engaged videos', () => {
    const knn = new ItemKnnRecommender(new TrainingMatrix(CO), { neighbours: 50, decay: 1 });
    expect(knn.recommend('a', 10)).toEqual(['v3']);
    const v1 = knn.neighbours(0);
    expect([...v1.items]).toEqual([2, 1]);
    expect(v1.sims[0]).toBeCloseTo(2 / 3);
    expect(v1.sims[1]).toBeCloseTo(1 / Math.sqrt(6));
  });

  it('recency-weighted item-kNN follows the latest history item', () => {
    // q watched x1 long ago and y1 last; x2 is closer to x1 than y2 is to y1.
    const events = history({ p1: ['x1', 'x2'], p2: ['x1', 'x2'], p3: ['y1', 'y2'], q: ['x1', 'y1'] });
    const matrix = new TrainingMatrix(events);
    expect(new ItemKnnRecommender(matrix, { neighbours: 50, decay: 1 }).recommend('q', 1)).toEqual(['x2']);
    expect(new ItemKnnRecommender(matrix, { neighbours: 50, decay: 0.7 }).recommend('q', 1)).toEqual(['y2']);
  });

  it('EASE ranks the co-engaged video first and models only the most popular items', () => {
    const matrix = new TrainingMatrix(CO);
    expect(new EaseRecommender(matrix, { lambda: 0.5, maxItems: 3000 }).recommend('a', 1)).toEqual(['v3']);
    const small = new EaseRecommender(matrix, { lambda: 0.5, maxItems: 2 });
    expect(small.items.map((i) => matrix.itemIds[i])).toEqual(['v4', 'v1']);
    expect(small.recommend('a', 5)).toEqual(['v4']);
  });

  it('inverts a symmetric positive definite matrix', () => {
    const n = 6;
    const m = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) m[i * n + j] = Math.cos(i * 7 + j * 3) + Math.cos(j * 7 + i * 3) + (i === j ? 10 : 0);
    const inv = m.slice();
    invertSpdInPlace(inv, n);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let k = 0; k < n; k++) s += m[i * n + k] * inv[k * n + j];
        expect(s).toBeCloseTo(i === j ? 1 : 0, 10);
      }
    }
  });

  it('topScores keeps the k best, ties to the lower index, skipping excluded ones', () => {
    expect(topScores(Float64Array.from([1, 5, 5, 0, 3]), 3, new Set([4]), true)).toEqual([1, 2, 0]);
    expect(topScores(Float64Array.from([0, -1, 2]), 3, new Set(), true)).toEqual([2]);
  });

  it('HR@10 and NDCG@10 count one relevant item per user', () => {
    const tally = new RankingTally(10);
    tally.add(['a', 'b'], 'b');
    tally.add(['c'], 'z');
    expect(tally.result(4)).toEqual({ users: 2, hitRate: 0.5, ndcg: 1 / Math.log2(3) / 2, coverage: 3 / 4 });
  });
});
