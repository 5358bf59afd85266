import { RankingQuery } from '../data/point-in-time-dataset';
import { headMetrics, rankingMetrics } from './offline-evaluation';

function query(user: number, n: number, relevant: number[]): RankingQuery {
  const rel = new Uint8Array(n);
  relevant.forEach((i) => (rel[i] = 1));
  return { user, at: 0, videos: Int32Array.from({ length: n }, (_, i) => i), relevant: rel, x: [], popularity: new Float64Array(n) };
}

describe('rankingMetrics', () => {
  it('scores a perfect ranking 1 and breaks ties without favouring the candidates listed first', () => {
    const queries = Array.from({ length: 200 }, (_, u) => query(u, 100, [0]));
    const perfect = rankingMetrics(queries, (q) => Float64Array.from(q.videos, (v) => (v === 0 ? 1 : 0)));
    expect(perfect).toEqual({ hitRate: 1, ndcg: 1 });
    // all scores equal: the relevant item (listed first) must land in the top 10 about 10% of the time
    const constant = rankingMetrics(queries, (q) => new Float64Array(q.videos.length));
    expect(constant.hitRate).toBeGreaterThan(0.03);
    expect(constant.hitRate).toBeLessThan(0.2);
  });
});

describe('headMetrics', () => {
  it('reports AUC, log loss and the base-rate log loss per head present in the labels', () => {
    const scores = [0.9, 0.1, 0.8, 0.3, 0.2, 0.6, 0.7, 0.4];
    const m = headMetrics(scores, ['like', 'extra'], [1, 0, 1, 0, 0, 0, 0, 1], ['like', 'skip'], { like: 0.5 });
    expect(Object.keys(m)).toEqual(['like']);
    expect(m.like.auc).toBe(1);
    expect(m.like.logLoss).toBeLessThan(m.like.baselineLogLoss);
    expect(m.like.positiveRate).toBe(0.5);
  });
});
