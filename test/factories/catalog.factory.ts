import { DataSource } from 'typeorm';

export interface VideoSeed {
  id: string;
  creatorId: string;
  category: string;
  title?: string;
  durationMs?: number;
  embedding?: number[] | null;
  status?: 'active' | 'taken_down';
  createdAt?: Date;
}

export interface MakeVideosOptions {
  prefix?: string;
  categories?: string[];
  /** Number of distinct creators (videos are spread round-robin); default one per video. */
  creators?: number;
  /** Embedding size, or 0 for no embeddings. */
  dim?: number;
  seed?: number;
  /** Upload time of video 0; later videos are one minute newer each. */
  start?: Date;
}

/** A deterministic pseudo-random unit vector. */
export function unitVector(dim: number, seed: number): number[] {
  let s = seed >>> 0 || 1;
  const v = Array.from({ length: dim }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32 - 0.5;
  });
  const n = Math.hypot(...v);
  return v.map((x) => x / n);
}

export function makeVideos(count: number, opts: MakeVideosOptions = {}): VideoSeed[] {
  const prefix = opts.prefix ?? 'v';
  const categories = opts.categories ?? ['comedy', 'dance', 'cooking', 'sports', 'gaming', 'music', 'pets', 'travel', 'tech', 'diy'];
  const creators = opts.creators ?? count;
  const start = (opts.start ?? new Date(Date.now() - count * 60_000 - 3_600_000)).getTime();
  return Array.from({ length: count }, (_, i) => ({
    id: `${prefix}${String(i).padStart(5, '0')}`,
    creatorId: `${prefix}c${String(i % creators).padStart(4, '0')}`,
    category: categories[i % categories.length],
    title: `${prefix} video ${i}`,
    durationMs: 10_000 + (i % 50) * 1000,
    embedding: opts.dim ? unitVector(opts.dim, (opts.seed ?? 7) * 100_003 + i) : null,
    createdAt: new Date(start + i * 60_000),
  }));
}

/** Inserts videos (and their creators) straight into Postgres. */
export async function insertVideos(db: DataSource, videos: VideoSeed[]): Promise<void> {
  const rows = videos.map((v) => ({
    id: v.id,
    creator_id: v.creatorId,
    title: v.title ?? v.id,
    category: v.category,
    duration_ms: v.durationMs ?? 20_000,
    embedding: v.embedding ?? null,
    status: v.status ?? 'active',
    created_at: (v.createdAt ?? new Date()).toISOString(),
  }));
  await db.query(
    `INSERT INTO creators (id, name, main_category)
     SELECT DISTINCT ON (creator_id) creator_id, creator_id, category FROM json_to_recordset($1::json) AS t(creator_id text, category text)
     ON CONFLICT DO NOTHING`,
    [JSON.stringify(rows)],
  );
  await db.query(
    `INSERT INTO videos (id, creator_id, title, category, duration_ms, embedding, status, created_at, updated_at)
     SELECT id, creator_id, title, category, duration_ms, embedding, status, created_at, created_at
     FROM json_to_recordset($1::json)
       AS t(id text, creator_id text, title text, category text, duration_ms integer, embedding real[], status text, created_at timestamptz)`,
    [JSON.stringify(rows)],
  );
}
