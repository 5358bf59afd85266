import { DataSource } from 'typeorm';
import { decodeFloat4ArraySend } from '../../../src/database/float4-array';
import { createTestDataSource } from '../../support/database';

/** Postgres' own binary form of real[] values, decoded, against the same values as node-postgres parses their text. */
describe('decodeFloat4ArraySend, on what Postgres sends', () => {
  let db: DataSource;
  beforeAll(async () => {
    db = await createTestDataSource();
  });
  afterAll(() => db.destroy());

  const both = async (literal: string) => {
    const [row] = (await db.query(`SELECT v AS text, array_send(v) AS bin FROM (SELECT ${literal}::real[] AS v) t`)) as { text: (number | null)[]; bin: Buffer }[];
    return { text: row.text, decoded: Array.from(decodeFloat4ArraySend(row.bin)) };
  };

  it('gives the float32 of every element, in order', async () => {
    const { text, decoded } = await both(`ARRAY[0.25, -1.5, 3.4028235e38, 1e-7, 0, 123.456, -0.001]`);
    expect(decoded).toEqual(text.map((v) => Math.fround(v!)));
  });

  it('gives NaN and infinities as such, and NULL elements as NaN', async () => {
    const { decoded } = await both(`ARRAY['NaN', 'Infinity', '-Infinity', NULL, 2]`);
    expect(decoded).toEqual([NaN, Infinity, -Infinity, NaN, 2]);
  });

  it('gives an empty array for {} and the elements of a 2-D array row by row', async () => {
    expect((await both(`'{}'`)).decoded).toEqual([]);
    expect((await both(`'{{1,2,3},{4,5,6}}'`)).decoded).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('refuses what is not a real[]', async () => {
    const [row] = (await db.query(`SELECT array_send(ARRAY[1.5, 2.5]::float8[]) AS bin`)) as { bin: Buffer }[];
    expect(() => decodeFloat4ArraySend(row.bin)).toThrow(/not a real\[\]/);
  });
});
