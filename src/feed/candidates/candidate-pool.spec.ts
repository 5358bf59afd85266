import { videoIdHash } from '../../catalog/video-id-hash';
import { CatalogVideo } from '../../features/catalog-video';
import { CandidatePool, PoolCatalog } from './candidate-pool';

/** A catalog of videos a..g ('d' taken down, 'e' by a blocked creator); ordinal = position; 'gone' left the catalog. */
class Catalog implements PoolCatalog {
  readonly ids = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'gone'];
  private readonly videos = this.ids.map((id): CatalogVideo | undefined =>
    id === 'gone'
      ? undefined
      : { id, creatorId: id === 'e' ? 'blocked' : 'ok', title: id, category: 'x', tags: [], durationMs: 1, createdAt: id === 'g' ? 5000 : 0, embedding: null, active: id !== 'd' },
  );
  findOrdinal(id: string): number {
    return this.ids.indexOf(id);
  }
  videoAt(ordinal: number): CatalogVideo | undefined {
    return this.videos[ordinal];
  }
  isActive(ordinal: number): boolean {
    return this.videos[ordinal]?.active === true;
  }
  activeCreatedAt(ordinal: number): number {
    return this.isActive(ordinal) ? this.videos[ordinal]!.createdAt : NaN;
  }
  idHashAt(ordinal: number): number {
    return videoIdHash(this.ids[ordinal]);
  }
  touch(): void {}
}

const catalog = new Catalog();
const none = { seen: [], served: [], exclude: [], blockedCreators: new Set<string>(), publishedBy: Infinity };

describe(CandidatePool.name, () => {
  it('keeps only candidates that pass every filter, each once, fairly across sources', () => {
    const pool = new CandidatePool(catalog, { ...none, seen: ['a'], served: new Set(['b']), exclude: ['c', 'not-in-catalog'], blockedCreators: new Set(['blocked']) }, 10);
    pool.offerRoundRobin([
      { source: 'ann', ids: ['a', 'b', 'c', 'd', 'e', 'f', 'unknown', 'gone'] },
      { source: 'trending', ids: ['f', 'g'] },
    ]);
    expect(pool.videos.map((v) => v.id)).toEqual(['f', 'g']);
    expect(pool.sources).toEqual(['trending', 'trending']);
    expect(pool.ordinals).toEqual([5, 6]);
  });

  it('takes catalog ordinals and ids alike, with the same filters', () => {
    const pool = new CandidatePool(catalog, { ...none, seen: ['f'], blockedCreators: new Set(['blocked']) }, 10);
    pool.offerRoundRobin([
      // a, d (taken down), e (blocked), f (seen), gone (left the catalog)
      { source: 'ann', ids: Int32Array.of(0, 3, 4, 5, 7) },
      { source: 'fresh', ids: ['a', 'g', 'b'] },
    ]);
    expect(pool.videos.map((v) => v.id)).toEqual(['a', 'g', 'b']);
    expect(pool.sources).toEqual(['ann', 'fresh', 'fresh']);
    expect(pool.positions).toEqual([0, 1, 2]);
  });

  it('does not serve a video dated after the feed clock (a scheduled release) until then', () => {
    const early = new CandidatePool(catalog, { ...none, publishedBy: 4999 }, 10);
    early.fill(['f', 'g'], 'fresh');
    expect(early.videos.map((v) => v.id)).toEqual(['f']);
    const later = new CandidatePool(catalog, { ...none, publishedBy: 5000 }, 10);
    later.fill(['f', 'g'], 'fresh');
    expect(later.videos.map((v) => v.id)).toEqual(['f', 'g']);
  });

  it('stops at its size and tops up from a fallback list', () => {
    const pool = new CandidatePool(catalog, none, 2);
    pool.fill(['d', 'a', 'b', 'c'], 'popular');
    expect(pool.videos.map((v) => v.id)).toEqual(['a', 'b']);
    expect(pool.full).toBe(true);
    const fromOrdinals = new CandidatePool(catalog, none, 2);
    fromOrdinals.fill(Int32Array.of(3, 0, 1, 2), 'popular', 4, 1);
    expect(fromOrdinals.videos.map((v) => v.id)).toEqual(['a', 'b']);
    expect(fromOrdinals.positions).toEqual([1, 2]);
  });
});
