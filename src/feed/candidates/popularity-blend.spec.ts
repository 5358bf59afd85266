import { candidateContext, FakeCatalog, fakeLists } from '../../../test/factories/candidate-source.factory';
import { planSources } from './source-shares';
import { Popular30dSource } from './popular-30d.source';
import { PopularSource } from './popular.source';
import { blendByShare, popularityShares } from './popularity-blend';

describe('popularity blend', () => {
  const decayed = ['d1', 'd2', 'd3', 'd4', 'd5', 'd6'];
  const allTime = ['a1', 'a2', 'a3', 'a4', 'a5', 'a6'];
  const blend = (shares: [number, number], max = 6, lists: [string[], string[]] = [decayed, allTime]) =>
    blendByShare(
      [
        { ids: lists[0], source: 'popular_30d', share: shares[0] },
        { ids: lists[1], source: 'popular', share: shares[1] },
      ],
      max,
    );

  it('alternates two lists of equal share, the decayed one first', () => {
    expect(blend([1, 1])).toEqual({
      ids: ['d1', 'a1', 'd2', 'a2', 'd3', 'a3'],
      sources: ['popular_30d', 'popular', 'popular_30d', 'popular', 'popular_30d', 'popular'],
    });
  });

  it('gives each list its share of every prefix, up to one item', () => {
    const out = blend([0.3, 0.1], 12, [Array.from({ length: 12 }, (_, i) => `d${i}`), Array.from({ length: 12 }, (_, i) => `a${i}`)]);
    for (let n = 1; n <= 12; n++) {
      const fromDecayed = out.sources.slice(0, n).filter((s) => s === 'popular_30d').length;
      expect(Math.abs(fromDecayed - 0.75 * n)).toBeLessThanOrEqual(1);
    }
    expect(out.ids.slice(0, 4)).toEqual(['d0', 'd1', 'a0', 'd2']);
  });

  it('places a video found by both lists once, and lets the other list fill an exhausted one', () => {
    expect(blend([1, 1], 6, [['x', 'd2'], ['x', 'a2', 'a3', 'a4']]).ids).toEqual(['x', 'a2', 'd2', 'a3', 'a4']);
    expect(blend([1, 0]).ids).toEqual(decayed);
    expect(blend([0, 1]).ids).toEqual(allTime);
  });

  it('takes its shares from FEED_SOURCES, equal by default and when both sources are off', () => {
    expect(popularityShares('')).toEqual({ decayed: 0.05, allTime: 0.05 });
    expect(popularityShares('popular_30d:0.3,popular:0')).toEqual({ decayed: 0.3, allTime: 0 });
    expect(popularityShares('popular_30d:0,popular:0')).toEqual({ decayed: 1, allTime: 1 });
  });

  it('is served by two sources with those names and default shares', () => {
    const catalog = new FakeCatalog();
    const lists = fakeLists({ popular: allTime, popular30d: decayed });
    const sources = [new Popular30dSource(lists, catalog.asService()), new PopularSource(lists, catalog.asService())];
    expect(catalog.idsOf(sources[0].fetch(candidateContext({ limit: 2 })))).toEqual(['d1', 'd2']);
    expect(catalog.idsOf(sources[1].fetch(candidateContext({ limit: 2 })))).toEqual(['a1', 'a2']);
    const plan = planSources(sources, 'popular:0.15');
    expect(plan.map((p) => p.source.name)).toEqual(['popular_30d', 'popular']);
    expect(plan[0].share).toBeCloseTo(0.25, 12);
  });
});
