import { DataSource } from 'typeorm';
import { CatalogRepository } from '../../../src/catalog/catalog.repository';
import { CatalogVideo } from '../../../src/features/catalog-video';
import { createTestDataSource } from '../../support/database';

/** The catalog as the api and the worker load it, from rows Postgres holds (embeddings read in binary). */
describe(CatalogRepository.name, () => {
  let db: DataSource;
  let repository: CatalogRepository;
  const rows: [id: string, embedding: string | null, learned: string | null, status: string][] = [
    ['crt-1', '{0.25,-1.5,1e-7,123.456}', null, 'active'],
    ['crt-2', null, '{3,-0.001}', 'active'],
    ['crt-3', '{1,2}', '{9,9}', 'taken_down'],
    ['crt-4', null, null, 'active'],
    ['crt-5', '{}', null, 'active'],
  ];

  beforeAll(async () => {
    db = await createTestDataSource();
    repository = new CatalogRepository(db);
    await db.query(`DELETE FROM videos WHERE id LIKE 'crt-%'`);
    await db.query(`INSERT INTO creators (id, name, main_category) VALUES ('crt-creator', 'crt', 'music') ON CONFLICT DO NOTHING`);
    for (const [id, embedding, learned, status] of rows) {
      await db.query(
        `INSERT INTO videos (id, creator_id, title, category, tags, duration_ms, embedding, learned_embedding, status) VALUES ($1, 'crt-creator', $1, 'music', '{riff,beat}', 15000, $2, $3, $4)`,
        [id, embedding, learned, status],
      );
    }
  });
  afterAll(async () => {
    await db.query(`DELETE FROM videos WHERE id LIKE 'crt-%'`);
    await db.destroy();
  });

  const expected = async (): Promise<Map<string, number[] | null>> => {
    const text = (await db.query(`SELECT id, COALESCE(embedding, learned_embedding) AS e FROM videos WHERE id LIKE 'crt-%'`)) as { id: string; e: number[] | null }[];
    return new Map(text.map((r) => [r.id, r.e && r.e.map((v) => Math.fround(v))]));
  };
  const embeddings = (videos: CatalogVideo[]) => new Map(videos.filter((v) => v.id.startsWith('crt-')).map((v) => [v.id, v.embedding && Array.from(v.embedding)]));

  it('reads each embedding (the content one, else the learned one) as Postgres holds it, through pages and by id', async () => {
    const paged: CatalogVideo[] = [];
    for await (const page of repository.pages(2)) paged.push(...page);
    const want = await expected();
    expect(want.get('crt-1')).toHaveLength(4);
    expect(embeddings(paged)).toEqual(want);
    const byId = await repository.findByIds(rows.map(([id]) => id));
    expect(embeddings(byId)).toEqual(want);
    expect(byId.find((v) => v.id === 'crt-3')).toMatchObject({ active: false, tags: ['riff', 'beat'], category: 'music', creatorId: 'crt-creator' });
  });
});
