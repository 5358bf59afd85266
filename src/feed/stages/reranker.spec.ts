import fc from 'fast-check';
import { AppConfig } from '../../config/app-config';
import { CatalogVideo } from '../../features/catalog-video';
import { emptyVideoStats } from '../../features/video-stats';
import { Reranker, RerankTrace } from './reranker';

const video = (id: number, creator: string, category: string): CatalogVideo => ({
  id: `v${id}`,
  creatorId: creator,
  title: '',
  category,
  tags: [],
  durationMs: 1000,
  createdAt: 0,
  embedding: null,
  active: true,
});

describe(Reranker.name, () => {
  const reranker = new Reranker(Object.assign(new AppConfig(), { FEED_MAX_PER_CREATOR: 2, FEED_EXPLORATION_SHARE: 0.2 }));

  it('orders by score while capping items per creator and per category', () => {
    // Ten items of creator a (best scores), then one each of other creators and categories.
    const videos = [
      ...Array.from({ length: 10 }, (_, i) => video(i, 'a', 'dance')),
      ...Array.from({ length: 10 }, (_, i) => video(10 + i, `c${i}`, i < 4 ? 'dance' : `cat${i}`)),
    ];
    const scores = Float32Array.from(videos, (_, i) => 100 - i);
    const picks = reranker.rerank({ videos, sources: videos.map(() => 'ann'), scores, stats: null }, { ...reranker.options(10), explorationSlots: 0 });
    const page = picks.map((i) => videos[i]);
    expect(page).toHaveLength(10);
    expect(page.filter((v) => v.creatorId === 'a')).toHaveLength(2);
    expect(page.filter((v) => v.category === 'dance').length).toBeLessThanOrEqual(4);
    expect(picks.slice(0, 2)).toEqual([0, 1]);
  });

  it('relaxes the caps only when the candidates cannot fill the page otherwise', () => {
    const videos = Array.from({ length: 6 }, (_, i) => video(i, 'a', 'dance'));
    const scores = Float32Array.from(videos, (_, i) => 10 - i);
    const picks = reranker.rerank({ videos, sources: videos.map(() => 'ann'), scores, stats: null }, reranker.options(5));
    expect(picks).toEqual([0, 1, 2, 3, 4]);
  });

  it('reserves exploration slots spread through the page, for videos under the impression cap', () => {
    const videos = Array.from({ length: 30 }, (_, i) => video(i, `c${i}`, `cat${i % 10}`));
    const sources = videos.map((_, i) => (i >= 20 ? 'exploration' : 'ann'));
    const scores = Float32Array.from(videos, (_, i) => 100 - i);
    const stats = videos.map((_, i) => ({ ...emptyVideoStats(), impressions: i === 20 ? 10_000 : 3 }));
    const picks = reranker.rerank({ videos, sources, scores, stats }, reranker.options(10));
    expect(picks).toHaveLength(10);
    const explored = picks.filter((i) => sources[i] === 'exploration');
    expect(explored).toEqual([21, 22]);
    expect(picks.indexOf(21)).toBe(3);
    expect(picks.indexOf(22)).toBe(6);
  });

  it('counts the caps the same from interned creator and category numbers', () => {
    const videos = Array.from({ length: 40 }, (_, i) => video(i, `c${i % 5}`, `cat${i % 3}`));
    const sources = videos.map((_, i) => (i % 7 === 0 ? 'exploration' : 'ann'));
    const scores = Float32Array.from(videos, (_, i) => Math.sin(i));
    const intern = (keys: string[]) => {
      const ids = new Map<string, number>();
      return Int32Array.from(keys, (k) => ids.get(k) ?? ids.set(k, ids.size).size - 1);
    };
    const groups = { creators: intern(videos.map((v) => v.creatorId)), categories: intern(videos.map((v) => v.category)) };
    const byIds = reranker.rerank({ videos, sources, scores, stats: null }, reranker.options(10));
    const byNumbers = reranker.rerank({ videos, sources, scores, stats: null, groups }, reranker.options(10));
    expect(byNumbers).toEqual(byIds);
    expect(byIds).toHaveLength(10);
    for (let c = 0; c < 5; c++) expect(byIds.filter((i) => videos[i].creatorId === `c${c}`).length).toBeLessThanOrEqual(2);
  });

  it('traces why each candidate was placed or left out, without changing the page', () => {
    // Creator a has the four best; c1..c3 share category dance with a; e1 is an exploration video.
    const videos = [
      ...Array.from({ length: 4 }, (_, i) => video(i, 'a', 'dance')),
      video(4, 'c1', 'dance'),
      video(5, 'c2', 'cooking'),
      video(6, 'c3', 'pets'),
      video(7, 'e1', 'travel'),
      video(8, 'c4', 'music'),
    ];
    const sources = videos.map((_, i) => (i === 7 ? 'exploration' : 'ann'));
    const scores = Float32Array.from(videos, (_, i) => 10 - i);
    const input = { videos, sources, scores, stats: null };
    const opts = { ...reranker.options(5), maxPerCategory: 2, explorationSlots: 1 };
    const trace = new RerankTrace();
    const picks = reranker.rerank(input, opts, trace);
    expect(picks).toEqual(reranker.rerank(input, opts));
    expect(picks.map((i) => videos[i].id)).toEqual(['v0', 'v1', 'v7', 'v5', 'v6']);
    expect(Array.from(trace.scoreRank)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
    expect(trace.decisions).toEqual([
      'ranked',
      'ranked',
      'creator_cap',
      'creator_cap',
      'category_cap',
      'ranked',
      'ranked',
      'exploration_slot',
      'below_cut',
    ]);
  });

  it('walks past the best candidates it ordered first when the caps reject all of them', () => {
    // The 60 best are one creator's: a page of 10 takes 2 of them, then has to reach the rest.
    const videos = [...Array.from({ length: 60 }, (_, i) => video(i, 'a', `cat${i % 10}`)), ...Array.from({ length: 40 }, (_, i) => video(60 + i, `c${i}`, `cat${i % 10}`))];
    const scores = Float32Array.from(videos, (_, i) => 1000 - i);
    const picks = reranker.rerank({ videos, sources: videos.map(() => 'ann'), scores, stats: null }, { ...reranker.options(10), explorationSlots: 0 });
    expect(picks).toEqual([0, 1, 60, 61, 62, 63, 64, 65, 66, 67]);
  });

  it('sorts the whole order at once after pages that read past the prefix, and picks the same pages', () => {
    // One creator's 60 best: every page of 10 reads past the best 40.
    const videos = [...Array.from({ length: 60 }, (_, i) => video(i, 'a', `cat${i % 10}`)), ...Array.from({ length: 40 }, (_, i) => video(60 + i, `c${i}`, `cat${i % 10}`))];
    const scores = Float32Array.from(videos, (_, i) => 1000 - i);
    const input = { videos, sources: videos.map(() => 'ann'), scores, stats: null };
    const opts = { ...reranker.options(10), explorationSlots: 0 };
    const adapting = new Reranker(Object.assign(new AppConfig(), { FEED_MAX_PER_CREATOR: 2 }));
    expect(adapting.orderPrefix.size(videos.length, 10)).toBe(40);
    const pages = Array.from({ length: 80 }, () => adapting.rerank(input, opts));
    expect(adapting.orderPrefix.size(videos.length, 10)).toBe(videos.length);
    for (const page of pages) expect(page).toEqual([0, 1, 60, 61, 62, 63, 64, 65, 66, 67]);
    // Pages the prefix serves bring it back.
    const easy = { ...input, videos: videos.map((v, i) => video(i, `c${i}`, `cat${i % 10}`)) };
    for (let i = 0; i < 80; i++) adapting.rerank(easy, opts);
    expect(adapting.orderPrefix.size(videos.length, 10)).toBe(40);
  });

  it('picks the same page whether or not it traces (the trace orders every candidate first)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ creator: fc.nat(6), category: fc.nat(4), exploration: fc.boolean(), score: fc.oneof(fc.integer({ min: -3, max: 3 }), fc.constant(NaN)) }), { maxLength: 200 }),
        fc.integer({ min: 1, max: 30 }),
        (rows, limit) => {
          const videos = rows.map((r, i) => video(i, `c${r.creator}`, `k${r.category}`));
          const sources = rows.map((r) => (r.exploration ? 'exploration' : 'ann'));
          const scores = Float32Array.from(rows, (r) => r.score);
          const stats = rows.map((_, i) => ({ ...emptyVideoStats(), impressions: i % 7 }));
          const input = { videos, sources, scores, stats };
          const opts = { ...reranker.options(limit), explorationImpressionCap: 4 };
          expect(reranker.rerank(input, opts)).toEqual(reranker.rerank(input, opts, new RerankTrace()));
        },
      ),
    );
  });
});
