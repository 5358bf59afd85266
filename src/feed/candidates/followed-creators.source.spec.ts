import { candidateContext, FakeCatalog, fakeLists } from '../../../test/factories/candidate-source.factory';
import { FollowedCreatorsSource } from './followed-creators.source';

describe(FollowedCreatorsSource.name, () => {
  const catalog = new FakeCatalog();
  const byCreator = new Map([
    ['alice', ['a3', 'a2', 'a1']],
    ['bob', ['b1']],
    ['carol', ['c2', 'c1']],
  ]);
  const source = new FollowedCreatorsSource(fakeLists({ byCreator }), catalog.asService());

  it('takes the newest videos of followed creators round-robin', () => {
    const found = source.fetch(candidateContext({ follows: new Set(['alice', 'bob', 'nobody']), limit: 3 }));
    expect(catalog.idsOf(found)).toEqual(['a3', 'b1', 'a2']);
  });

  it('finds nothing for a user who follows no one', () => {
    expect(source.fetch(candidateContext())).toHaveLength(0);
  });
});
