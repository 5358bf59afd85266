import { parse } from 'csv-parse/sync';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RawRow, readRows, splitCsvRecord } from './file-rows';

async function all(rows: AsyncIterable<RawRow>): Promise<RawRow[]> {
  const out: RawRow[] = [];
  for await (const r of rows) out.push(r);
  return out;
}

const dir = mkdtempSync(join(tmpdir(), 'file-rows-'));

describe('readRows', () => {
  it('reads CSV as csv-parse does, quoted commas, quotes and newlines included', async () => {
    const text = [
      'movieId,title,genres',
      '1,Paper Boats (1995),Adventure|Animation',
      '2,"Kite, the ""game"" (1995)",Adventure',
      '3,"Two',
      'lines",Drama',
      '',
      '4,Plain,',
    ].join('\n');
    const file = join(dir, 'movies.csv');
    writeFileSync(file, `\uFEFF${text}\n`);
    const rows = await all(readRows(file));
    const reference = parse(`${text}\n`, { columns: true, skip_empty_lines: true });
    expect(rows.map((r) => ('fields' in r ? r.fields : r))).toEqual(reference);
    expect(rows.map((r) => r.line)).toEqual([2, 3, 4, 7]);
  });

  it('reads CRLF line ends', async () => {
    const file = join(dir, 'crlf.csv');
    writeFileSync(file, 'a,b\r\n1,"x,y"\r\n');
    expect(await all(readRows(file))).toEqual([{ line: 2, fields: { a: '1', b: 'x,y' } }]);
  });

  it('reports a CSV record with the wrong number of fields at its line', async () => {
    const file = join(dir, 'events.csv');
    writeFileSync(file, 'userId,videoId\nu1,v1\nu2,v2,extra\nu3,v3\n');
    const rows = await all(readRows(file));
    expect(rows).toEqual([
      { line: 2, fields: { userId: 'u1', videoId: 'v1' } },
      { line: 3, error: 'has 3 fields, the header has 2' },
      { line: 4, fields: { userId: 'u3', videoId: 'v3' } },
    ]);
  });

  it('reads JSONL, blank lines skipped, bad lines reported by number', async () => {
    const file = join(dir, 'events.jsonl');
    writeFileSync(file, '{"a":1}\n\n{oops\n[1]\n{"b":2}\n');
    const rows = await all(readRows(file));
    expect(rows[0]).toEqual({ line: 1, fields: { a: 1 } });
    expect(rows[1]).toMatchObject({ line: 3, error: expect.stringMatching(/^not valid JSON/) });
    expect(rows[2]).toEqual({ line: 4, error: 'not a JSON object' });
    expect(rows[3]).toEqual({ line: 5, fields: { b: 2 } });
  });

  it('splits records with an unclosed quote as incomplete', () => {
    expect(splitCsvRecord('a,"b')).toBeNull();
    expect(splitCsvRecord('a,"b""c",d')).toEqual(['a', 'b"c', 'd']);
  });
});
