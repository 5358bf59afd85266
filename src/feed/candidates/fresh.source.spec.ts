import { candidateContext, FakeCatalog, fakeLists } from '../../../test/factories/candidate-source.factory';
import { FreshSource } from './fresh.source';

describe(FreshSource.name, () => {
  const catalog = new FakeCatalog();
  const source = new FreshSource(fakeLists({ fresh: ['new3', 'new2', 'new1'] }), catalog.asService());

  it('returns the newest uploads, newest first, at most ctx.limit', () => {
    expect(catalog.idsOf(source.fetch(candidateContext({ limit: 2 })))).toEqual(['new3', 'new2']);
  });

  it('has a default share of the candidate budget', () => {
    expect(source.name).toBe('fresh');
    expect(source.defaultShare).toBeGreaterThan(0);
  });
});
