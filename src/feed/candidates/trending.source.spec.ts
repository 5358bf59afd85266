import { candidateContext, FakeCatalog, fakeLists } from '../../../test/factories/candidate-source.factory';
import { TrendingCacheService } from '../data/trending-cache.service';
import { TrendingSource } from './trending.source';

describe(TrendingSource.name, () => {
  const catalog = new FakeCatalog();
  const lists = fakeLists({ popular: ['p1', 'p2', 'p3'] });
  const trending = (ids: string[]) => ({ ids }) as TrendingCacheService;

  it('returns what trends now, best first', () => {
    const source = new TrendingSource(trending(['t1', 't2', 't3']), lists, catalog.asService());
    expect(catalog.idsOf(source.fetch(candidateContext({ limit: 2 })))).toEqual(['t1', 't2']);
  });

  it('falls back to the popularity blend while nothing trends', () => {
    const source = new TrendingSource(trending([]), lists, catalog.asService());
    expect(catalog.idsOf(source.fetch(candidateContext()))).toEqual(['p1', 'p2', 'p3']);
  });
});
