import { CatalogVideo } from '../features/catalog-video';
import { categoryCentroids, hasDirection, nearestCategories, nearestVideos } from './embedding-neighbours';
import { favouriteTopics } from './demo-user';

const video = (id: string, category: string, embedding: number[] | null, active = true): CatalogVideo => ({
  id,
  creatorId: 'c1',
  title: id,
  category,
  tags: [],
  durationMs: 10_000,
  createdAt: 0,
  embedding: embedding ? Float32Array.from(embedding) : null,
  active,
});

describe('embedding neighbours', () => {
  const catalog = [
    video('east', 'travel', [1, 0, 0]),
    video('north-east', 'travel', [0.7, 0.7, 0]),
    video('north', 'dance', [0, 1, 0]),
    video('west', 'dance', [-1, 0, 0]),
    video('up', 'tech', [0, 0, 2]),
    video('no-embedding', 'tech', null),
    video('taken-down', 'travel', [1, 0.01, 0], false),
    video('other-dim', 'tech', [1, 0]),
  ];

  it('ranks active videos with an embedding by cosine similarity, best first', () => {
    const top = nearestVideos([2, 0.1, 0], catalog, 3);
    expect(top.map((n) => n.video.id)).toEqual(['east', 'north-east', 'north']);
    expect(top[0].similarity).toBeCloseTo(0.9988, 3);
    expect(top[2].similarity).toBeLessThan(top[1].similarity);
  });

  it('returns every eligible video when k exceeds the catalog', () => {
    expect(nearestVideos([0, 0, 1], catalog, 50).map((n) => n.video.id)).toEqual(['up', 'east', 'north-east', 'north', 'west']);
  });

  it('ranks categories by their centroid', () => {
    const centroids = categoryCentroids(catalog);
    expect([...centroids.keys()].sort()).toEqual(['dance', 'tech', 'travel']);
    expect(nearestCategories([0, 0, 1], centroids)[0]).toEqual({ category: 'tech', similarity: expect.closeTo(1, 5) });
    expect(nearestCategories([1, 0, 0], centroids).map((c) => c.category)).toEqual(['travel', 'tech', 'dance']);
  });

  it('tells a zero vector (no signal yet) from a direction', () => {
    expect(hasDirection([0, 0, 0])).toBe(false);
    expect(hasDirection([0, 1e-3, 0])).toBe(true);
  });
});

describe('favouriteTopics', () => {
  it('lists the topics with real weight, strongest first', () => {
    const weights = new Array(12).fill(0.01);
    weights[2] = 0.3; // cooking
    weights[6] = 0.6; // pets
    expect(favouriteTopics(weights)).toEqual(['pets', 'cooking']);
    expect(favouriteTopics(undefined)).toEqual([]);
  });
});
