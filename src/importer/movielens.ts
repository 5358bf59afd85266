import { join } from 'node:path';
import { readRows } from './file-rows';
import { CATEGORY_PATTERN, EventRecord, RowResult, VideoRecord } from './import-records';
import { parseImportTime } from './import-time';

/** MovieLens has no durations; every movie gets this one (its events carry no watch time either). */
export const MOVIELENS_DURATION_MS = 5_400_000;
/** A rating at or above this is also a like. */
export const MOVIELENS_LIKE_RATING = 4;

/** "Sci-Fi" -> "sci-fi", "Film-Noir" -> "film-noir", "(no genres listed)" -> "none". */
export function genreCategory(genre: string): string {
  const c = genre.toLowerCase().replace(/[^a-z0-9_-]+/g, '-').replace(/^-+|-+$/g, '');
  return CATEGORY_PATTERN.test(c) && c !== 'no-genres-listed' ? c : 'none';
}

/**
 * movies.csv (movieId,title,genres) as the catalog: the first genre is the category, the
 * others are tags, and each movie is its own creator (`ml-<movieId>`): MovieLens has no
 * creators, and one shared creator would let the feed's per-creator cap reshape every page.
 */
export async function* movieLensVideos(dir: string): AsyncIterable<RowResult<VideoRecord>> {
  const file = join(dir, 'movies.csv');
  for await (const row of readRows(file, 'csv')) {
    if ('error' in row) {
      yield { file, line: row.line, error: row.error };
      continue;
    }
    const { movieId, title, genres } = row.fields as Record<string, string | undefined>;
    if (!movieId || !/^\d{1,20}$/.test(movieId)) {
      yield { file, line: row.line, error: `movieId must be a number (got ${JSON.stringify(movieId ?? null)})` };
      continue;
    }
    const categories = (genres ?? '').split('|').map(genreCategory);
    yield {
      file,
      line: row.line,
      records: [
        {
          id: movieId,
          creatorId: `ml-${movieId}`,
          title: (title || movieId).slice(0, 300),
          category: categories[0],
          tags: [...new Set(categories.slice(1))],
          durationMs: MOVIELENS_DURATION_MS,
          createdAt: releaseYear(title),
        },
      ],
    };
  }
}

/** January 1st of the year in a MovieLens title ("Lantern (1995)"), or null: the movie then dates from its first rating. */
function releaseYear(title: string | undefined): number | null {
  const m = /\((\d{4})\)\s*$/.exec(title ?? '');
  return m ? Date.UTC(Number(m[1]), 0, 1) : null;
}

/** ratings.csv (userId,movieId,rating,timestamp): every rating is a view, one of 4 or more also a like, at its own time. */
export async function* movieLensEvents(dir: string, now = Date.now()): AsyncIterable<RowResult<EventRecord>> {
  const file = join(dir, 'ratings.csv');
  for await (const row of readRows(file, 'csv')) {
    if ('error' in row) {
      yield { file, line: row.line, error: row.error };
      continue;
    }
    const { userId, movieId, rating, timestamp } = row.fields as Record<string, string | undefined>;
    const value = Number(rating);
    const occurredAt = parseImportTime(timestamp, now);
    let error: string | null = null;
    if (!userId || !/^\d{1,20}$/.test(userId)) error = `userId must be a number (got ${JSON.stringify(userId ?? null)})`;
    else if (!movieId || !/^\d{1,20}$/.test(movieId)) error = `movieId must be a number (got ${JSON.stringify(movieId ?? null)})`;
    else if (!rating || !(value >= 0 && value <= 5)) error = `rating must be a number from 0 to 5 (got ${JSON.stringify(rating ?? null)})`;
    else if (occurredAt === null) error = `timestamp must be epoch seconds, not in the future (got ${JSON.stringify(timestamp ?? null)})`;
    if (error !== null) {
      yield { file, line: row.line, error };
      continue;
    }
    const base = { userId: userId!, videoId: movieId!, watchMs: null, occurredAt: occurredAt! };
    const records: EventRecord[] = [{ ...base, eventId: `ml:${movieId}:${timestamp}:view`, type: 'view' }];
    if (value >= MOVIELENS_LIKE_RATING) records.push({ ...base, eventId: `ml:${movieId}:${timestamp}:like`, type: 'like' });
    yield { file, line: row.line, records };
  }
}
