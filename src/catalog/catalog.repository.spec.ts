import { SharedStrings, toCatalogVideo, toCatalogVideos } from './catalog.repository';

const row = (id: string, embedding: number[] | null, over: Partial<Parameters<typeof toCatalogVideo>[0]> = {}) => ({
  id,
  creator_id: `c_${id.length}`,
  title: `title ${id}`,
  category: 'music',
  tags: ['riff', 'beat'],
  duration_ms: 15_000,
  created_at: new Date(1_700_000_000_000),
  status: 'active',
  embedding,
  ...over,
});

describe('toCatalogVideos', () => {
  it('maps rows to catalog videos, each embedding a view of one buffer for the page', () => {
    const rows = [row('v1', [1, 2, 3]), row('v2', null, { status: 'removed', tags: null as unknown as string[] }), row('v3', [4, 5, 6, 7])];
    const videos = toCatalogVideos(rows);
    expect({ ...videos[0], embedding: null }).toEqual({
      id: 'v1',
      creatorId: 'c_2',
      title: 'title v1',
      category: 'music',
      tags: ['riff', 'beat'],
      durationMs: 15_000,
      createdAt: 1_700_000_000_000,
      embedding: null,
      active: true,
    });
    expect(videos.map((v) => v.embedding && [...v.embedding])).toEqual([[1, 2, 3], null, [4, 5, 6, 7]]);
    expect(videos[0].embedding!.buffer).toBe(videos[2].embedding!.buffer);
    expect(videos[1]).toMatchObject({ active: false, tags: [], createdAt: 1_700_000_000_000 });
    // Views that do not overlap: writing one leaves the other as it was.
    videos[0].embedding!.fill(0);
    expect([...videos[2].embedding!]).toEqual([4, 5, 6, 7]);
  });

  it('takes creator ids, categories and tags from the shared strings', () => {
    const strings = new SharedStrings();
    const get = jest.spyOn(strings, 'get');
    toCatalogVideos([row('v1', null), row('v2', null, { category: 'dance', tags: ['beat'] })], strings);
    expect(get.mock.calls.map(([value]) => value).sort()).toEqual(['beat', 'beat', 'c_2', 'c_2', 'dance', 'music', 'riff'].sort());
    expect(strings.get('music')).toBe('music');
  });
});
