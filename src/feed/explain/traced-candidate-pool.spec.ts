import { videoIdHash } from '../../catalog/video-id-hash';
import { CatalogVideo } from '../../features/catalog-video';
import { CandidatePool, PoolCatalog } from '../candidates/candidate-pool';
import { TracedCandidatePool } from './traced-candidate-pool';

/** Videos a..h ('d' taken down, 'e' by a blocked creator); ordinal = position; 'gone' left the catalog. */
class Catalog implements PoolCatalog {
  readonly ids = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'gone'];
  private readonly videos = this.ids.map((id): CatalogVideo | undefined =>
    id === 'gone'
      ? undefined
      : { id, creatorId: id === 'e' ? 'blocked' : 'ok', title: id, category: 'x', tags: [], durationMs: 1, createdAt: 0, embedding: null, active: id !== 'd' },
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
const exclusions = { seen: ['a'], served: ['b', 'a'], exclude: ['c'], blockedCreators: new Set(['blocked']), publishedBy: Infinity };
const results = [
  { source: 'ann', ids: ['a', 'b', 'c', 'd', 'e', 'f', 'unknown', 'gone', 'h'] },
  { source: 'trending', ids: Int32Array.of(5, 6, 7) },
];

describe(TracedCandidatePool.name, () => {
  it('keeps exactly what the plain pool keeps', () => {
    const plain = new CandidatePool(catalog, exclusions, 2);
    const traced = new TracedCandidatePool(catalog, exclusions, 2);
    plain.offerRoundRobin(results);
    traced.offerRoundRobin(results);
    expect(traced.videos).toEqual(plain.videos);
    expect(traced.sources).toEqual(plain.sources);
  });

  it('records every source that found a video and why each dropped one was dropped', () => {
    const pool = new TracedCandidatePool(catalog, exclusions, 2);
    pool.offerRoundRobin(results);
    pool.noteUnoffered(results);
    expect(pool.videos.map((v) => v.id)).toEqual(['f', 'g']);
    const reasons = Object.fromEntries([...pool.dropped].map(([ordinal, reason]) => [catalog.ids[ordinal], reason]));
    expect(reasons).toEqual({
      a: 'seen',
      b: 'served',
      c: 'excluded',
      d: 'taken_down',
      e: 'blocked',
      gone: 'unknown',
      h: 'candidate_limit',
    });
    expect(pool.foundBy.get(5)).toEqual(['trending', 'ann']);
    expect(pool.foundBy.get(7)).toEqual(['ann', 'trending']);
    expect([...pool.unknown]).toEqual([['unknown', ['ann']]]);
  });
});
