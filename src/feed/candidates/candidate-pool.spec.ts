import { CatalogVideo } from '../../features/catalog-video';
import { CandidatePool } from './candidate-pool';

const catalog = new Map<string, CatalogVideo>(
  ['a', 'b', 'c', 'd', 'e', 'f', 'g'].map((id) => [
    id,
    { id, creatorId: id === 'e' ? 'blocked' : 'ok', title: id, category: 'x', tags: [], durationMs: 1, createdAt: 0, embedding: null, active: id !== 'd' },
  ]),
);

describe(CandidatePool.name, () => {
  it('keeps only candidates that pass every filter, each once, fairly across sources', () => {
    const pool = new CandidatePool(
      catalog,
      { seen: new Set(['a']), served: new Set(['b']), exclude: new Set(['c']), blockedCreators: new Set(['blocked']) },
      10,
    );
    pool.offerRoundRobin([
      { source: 'ann', ids: ['a', 'b', 'c', 'd', 'e', 'f', 'unknown'] },
      { source: 'trending', ids: ['f', 'g'] },
    ]);
    expect(pool.videos.map((v) => v.id)).toEqual(['f', 'g']);
    expect(pool.sources).toEqual(['trending', 'trending']);
  });

  it('stops at its size and tops up from a fallback list', () => {
    const pool = new CandidatePool(catalog, { seen: new Set(), served: new Set(), exclude: new Set(), blockedCreators: new Set() }, 2);
    pool.fill(['d', 'a', 'b', 'c'], 'popular');
    expect(pool.videos.map((v) => v.id)).toEqual(['a', 'b']);
    expect(pool.full).toBe(true);
  });
});
