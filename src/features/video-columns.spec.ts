import { CatalogVideo } from './catalog-video';
import { computeVideoRow } from './feature-registry';
import { VideoColumns } from './video-columns';
import { emptyVideoStats } from './video-stats';

const video = (i: number, dim: number): CatalogVideo => ({
  id: `v${i}`,
  creatorId: `c${i % 7}`,
  title: '',
  category: `cat${i % 5}`,
  tags: [],
  durationMs: 1000 + i,
  createdAt: 1_700_000_000_000 + i,
  // Every third video has none, every fifth one of the wrong length.
  embedding: i % 3 === 0 ? null : Float32Array.from({ length: i % 5 === 0 ? dim + 1 : dim }, (_, d) => i + d / 10),
  active: true,
});

describe(VideoColumns.name, () => {
  it('keeps every slot intact while it grows, whatever order the slots come in, and takes a new video into a slot', () => {
    const dim = 4;
    const table = new VideoColumns(dim);
    const videos = Array.from({ length: 3000 }, (_, i) => video(i, dim));
    // Sparse, out-of-order slots, as catalog ordinals are.
    const slots = videos.map((_, i) => (i * 7919) % 6007);
    expect(new Set(slots).size).toBe(3000);
    videos.forEach((v, i) => table.assign(slots[i], v));
    videos.forEach((v, i) => table.setRow(slots[i], v, { ...emptyVideoStats(), views: i }));
    videos.forEach((v, i) => {
      const s = slots[i];
      const has = v.embedding !== null && v.embedding.length === dim;
      expect(Array.from(table.embeddings.subarray(s * dim, (s + 1) * dim))).toEqual(has ? Array.from(v.embedding!) : [0, 0, 0, 0]);
      expect(table.createdAt[s]).toBe(v.createdAt);
      expect(table.categories[s]).toBe(table.categoryIds.get(v.category));
      expect(table.creators[s]).toBe(table.creatorIds.get(v.creatorId));
      expect(table.rows.slice(s * table.rowWidth, (s + 1) * table.rowWidth)).toEqual(computeVideoRow(v, { ...emptyVideoStats(), views: i }));
    });
    table.assign(slots[10], video(9999, dim));
    expect(table.createdAt[slots[10]]).toBe(video(9999, dim).createdAt);
    expect(table.creators[slots[10]]).toBe(table.creatorIds.get(video(9999, dim).creatorId));
  });
});
