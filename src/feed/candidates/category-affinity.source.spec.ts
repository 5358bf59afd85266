import { candidateContext, FakeCatalog, fakeLists } from '../../../test/factories/candidate-source.factory';
import { AppConfig } from '../../config/app-config';
import { CategoryAffinitySource } from './category-affinity.source';

describe(CategoryAffinitySource.name, () => {
  const catalog = new FakeCatalog();
  const byCategory = new Map([
    ['cooking', ['k1', 'k2', 'k3', 'k4']],
    ['pets', ['p1', 'p2', 'p3', 'p4']],
    ['music', ['m1', 'm2']],
  ]);
  const source = (topCategories: number) =>
    new CategoryAffinitySource(fakeLists({ byCategory }), catalog.asService(), Object.assign(new AppConfig(), { FEED_TOP_CATEGORIES: topCategories }));
  const user = { categoryAffinity: new Map(Object.entries({ cooking: 3, pets: 1, music: 0.5, dance: 0 })) };

  it('draws from the top FEED_TOP_CATEGORIES categories in proportion to affinity', () => {
    expect(catalog.idsOf(source(2).fetch(candidateContext({ user, limit: 4 })))).toEqual(['k1', 'k2', 'k3', 'p1']);
    expect(catalog.idsOf(source(3).fetch(candidateContext({ user, limit: 9 })))).toEqual(['k1', 'k2', 'k3', 'k4', 'p1', 'p2', 'm1']);
  });

  it('finds nothing without category affinity', () => {
    expect(source(3).fetch(candidateContext())).toHaveLength(0);
  });
});
