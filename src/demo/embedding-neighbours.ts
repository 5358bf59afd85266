import { CatalogVideo } from '../features/catalog-video';

export interface VideoNeighbour {
  video: CatalogVideo;
  similarity: number;
}

export interface CategoryNeighbour {
  category: string;
  similarity: number;
}

function cosine(a: ArrayLike<number>, b: ArrayLike<number>, bNorm: number): number {
  let dot = 0;
  let aa = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i] * b[i];
    aa += a[i] * a[i];
  }
  const denom = Math.sqrt(aa) * bNorm;
  return denom > 0 ? dot / denom : 0;
}

function norm(v: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i] * v[i];
  return Math.sqrt(s);
}

/** True when the vector carries a direction (a new user's embedding is all zeros). */
export function hasDirection(v: ArrayLike<number>): boolean {
  return norm(v) > 1e-9;
}

/**
 * The `k` active videos most similar (cosine) to `embedding`. An exact scan: the
 * demo explains the user vector, it is not on the feed's hot path.
 */
export function nearestVideos(embedding: ArrayLike<number>, videos: Iterable<CatalogVideo>, k: number): VideoNeighbour[] {
  const top: VideoNeighbour[] = [];
  for (const video of videos) {
    if (!video.active || !video.embedding || video.embedding.length !== embedding.length) continue;
    const similarity = cosine(embedding, video.embedding, norm(video.embedding));
    if (top.length === k && similarity <= top[k - 1].similarity) continue;
    let i = Math.min(top.length, k - 1);
    top[i] = { video, similarity };
    while (i > 0 && top[i - 1].similarity < similarity) {
      [top[i - 1], top[i]] = [top[i], top[i - 1]];
      i--;
    }
  }
  return top;
}

/** Mean embedding of each category's active videos: where each category sits in taste space. */
export function categoryCentroids(videos: Iterable<CatalogVideo>): Map<string, Float32Array> {
  const sums = new Map<string, Float32Array>();
  for (const video of videos) {
    if (!video.active || !video.embedding) continue;
    let sum = sums.get(video.category);
    if (!sum) sums.set(video.category, (sum = new Float32Array(video.embedding.length)));
    if (sum.length !== video.embedding.length) continue;
    for (let i = 0; i < sum.length; i++) sum[i] += video.embedding[i];
  }
  return sums;
}

/** Categories ranked by cosine similarity between their centroid and `embedding`. */
export function nearestCategories(embedding: ArrayLike<number>, centroids: Map<string, Float32Array>): CategoryNeighbour[] {
  return [...centroids]
    .filter(([, c]) => c.length === embedding.length)
    .map(([category, c]) => ({ category, similarity: cosine(embedding, c, norm(c)) }))
    .sort((a, b) => b.similarity - a.similarity);
}
