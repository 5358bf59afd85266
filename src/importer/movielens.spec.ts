import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventRecord, RowResult, VideoRecord } from './import-records';
import { genreCategory, MOVIELENS_DURATION_MS, movieLensEvents, movieLensVideos } from './movielens';

async function all<T>(rows: AsyncIterable<RowResult<T>>): Promise<RowResult<T>[]> {
  const out: RowResult<T>[] = [];
  for await (const r of rows) out.push(r);
  return out;
}

describe('MovieLens adapter', () => {
  const dir = mkdtempSync(join(tmpdir(), 'movielens-'));
  writeFileSync(
    join(dir, 'movies.csv'),
    'movieId,title,genres\n1,Paper Boats (1995),Adventure|Animation|Children\n2,"Lantern, the (1995)",Sci-Fi\n3,Nothing,(no genres listed)\n',
  );
  writeFileSync(join(dir, 'ratings.csv'), 'userId,movieId,rating,timestamp\n1,1,4.0,900000003\n1,2,3.5,900000007\n2,x,5,900000011\n2,1,6,900000011\n');

  it('makes each movie a video of its own creator, first genre as category', async () => {
    const rows = await all<VideoRecord>(movieLensVideos(dir));
    const videos = rows.flatMap((r) => ('records' in r ? r.records : []));
    expect(videos).toEqual([
      { id: '1', creatorId: 'ml-1', title: 'Paper Boats (1995)', category: 'adventure', tags: ['animation', 'children'], durationMs: MOVIELENS_DURATION_MS, createdAt: Date.UTC(1995, 0, 1) },
      { id: '2', creatorId: 'ml-2', title: 'Lantern, the (1995)', category: 'sci-fi', tags: [], durationMs: MOVIELENS_DURATION_MS, createdAt: Date.UTC(1995, 0, 1) },
      { id: '3', creatorId: 'ml-3', title: 'Nothing', category: 'none', tags: [], durationMs: MOVIELENS_DURATION_MS, createdAt: null },
    ]);
    expect(genreCategory('Film-Noir')).toBe('film-noir');
  });

  it('turns every rating into a view at its time, 4 and up also a like; bad ratings are reported by line', async () => {
    const rows = await all<EventRecord>(movieLensEvents(dir));
    expect(rows[0]).toEqual({
      file: join(dir, 'ratings.csv'),
      line: 2,
      records: [
        { eventId: 'ml:1:900000003:view', userId: '1', videoId: '1', type: 'view', watchMs: null, occurredAt: 900000003000 },
        { eventId: 'ml:1:900000003:like', userId: '1', videoId: '1', type: 'like', watchMs: null, occurredAt: 900000003000 },
      ],
    });
    expect(rows[1]).toMatchObject({ line: 3, records: [{ type: 'view', videoId: '2' }] });
    expect(rows[2]).toMatchObject({ line: 4, error: expect.stringMatching(/^movieId must be a number/) });
    expect(rows[3]).toMatchObject({ line: 5, error: expect.stringMatching(/^rating must be/) });
  });
});
