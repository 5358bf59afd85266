import { DataSource } from 'typeorm';
import { ItemNeighboursRepository } from '../../src/neighbours/item-neighbours.repository';
import { SequenceModelRepository, StoredSequenceModel } from '../../src/sequence/sequence-model.repository';
import { createTestDataSource, truncateAllTables } from '../support/database';

const sequenceRun = (version: string, dim = 2): StoredSequenceModel => ({
  version,
  videoIds: ['v1', 'v2'],
  dim,
  maxLength: 4,
  encoder: Uint8Array.from([1, 2, 3]),
  itemVectors: Float32Array.from({ length: 2 * dim }, (_, i) => i / 4),
});

const neighboursRun = (version: string) => ({
  version,
  videoIds: ['v1', 'v2'],
  offsets: Int32Array.from([0, 1, 2]),
  neighbours: Int32Array.from([1, 0]),
  co: Float32Array.from([2, 2]),
  next: Float32Array.from([1, 0]),
  engagements: Float32Array.from([3, 4]),
});

/** The one-row-per-training-run tables (item neighbours, sequence models): written whole, the newest and one before kept, read back exactly. */
describe('training runs in Postgres', () => {
  let db: DataSource;
  let sequences: SequenceModelRepository;
  let neighbours: ItemNeighboursRepository;

  beforeAll(async () => {
    db = await createTestDataSource();
    sequences = new SequenceModelRepository(db);
    neighbours = new ItemNeighboursRepository(db);
  });
  beforeEach(() => truncateAllTables(db));
  afterAll(() => db?.destroy());

  it('keeps the newest run and the one before it, and reads the newest unless asked for another', async () => {
    for (const v of ['s1', 's2', 's3']) await sequences.write(sequenceRun(v));
    const kept: { version: string }[] = await db.query(`SELECT version FROM sequence_models ORDER BY version`);
    expect(kept.map((r) => r.version)).toEqual(['s2', 's3']);
    expect((await sequences.read())?.version).toBe('s3');
    expect((await sequences.read('s2'))?.version).toBe('s2');
    expect(await sequences.read('s1')).toBeNull();

    for (const v of ['n1', 'n2', 'n3']) await neighbours.write(neighboursRun(v));
    expect((await db.query(`SELECT version FROM item_neighbours ORDER BY version`)).map((r: { version: string }) => r.version)).toEqual(['n2', 'n3']);
    expect(await neighbours.latestVersion()).toBe('n3');
  });

  it('reads back what was written, and a rewrite of a version replaces it and makes it the newest', async () => {
    await sequences.write(sequenceRun('a', 2));
    await sequences.write(sequenceRun('b', 2));
    await sequences.write(sequenceRun('a', 3));
    expect(await sequences.read()).toEqual(sequenceRun('a', 3));
    expect((await db.query(`SELECT count(*)::int AS n FROM sequence_models`))[0].n).toBe(2);

    await neighbours.write(neighboursRun('x'));
    expect(await neighbours.read('x')).toEqual(neighboursRun('x'));
  });

  it('returns null when there is no run', async () => {
    expect(await sequences.read()).toBeNull();
    expect(await neighbours.read()).toBeNull();
    expect(await neighbours.latestVersion()).toBeNull();
  });
});
