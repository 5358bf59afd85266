import { candidateContext, FakeCatalog, fakeLists } from '../../../test/factories/candidate-source.factory';
import { ExplorationSource } from './exploration.source';

describe(ExplorationSource.name, () => {
  const catalog = new FakeCatalog();
  const pool = Array.from({ length: 20 }, (_, i) => `x${i}`);
  const source = new ExplorationSource(fakeLists({ exploration: pool }), catalog.asService());

  it('returns the least exposed half first, then a window of the rest, without repeats', () => {
    const found = catalog.idsOf(source.fetch(candidateContext({ limit: 6 })));
    expect(found.slice(0, 3)).toEqual(['x0', 'x1', 'x2']);
    expect(found).toHaveLength(6);
    expect(new Set(found).size).toBe(6);
    expect(found.slice(3).every((id) => pool.indexOf(id) >= 3)).toBe(true);
  });

  it('returns the whole pool when it is small', () => {
    expect(catalog.idsOf(source.fetch(candidateContext({ limit: 50 })))).toEqual(pool);
  });
});
