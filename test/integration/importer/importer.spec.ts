import { INestApplicationContext, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { CoreModule } from '../../../src/app/core.module';
import { eventFileRows, videoFileRows } from '../../../src/importer/import-sources';
import { BadRow, ImporterService, MostlyBadFileError } from '../../../src/importer/importer.service';
import { ImporterModule } from '../../../src/importer/importer.module';
import { createTestDataSource, truncateAllTables } from '../../support/database';

@Module({ imports: [CoreModule, ImporterModule] })
class ImporterTestModule {}

const dir = mkdtempSync(join(tmpdir(), 'importer-'));
const DAY = 86_400_000;
const T0 = Date.parse('2021-03-01T00:00:00Z');

function writeCatalog(): string {
  const file = join(dir, 'videos.jsonl');
  const lines = Array.from({ length: 5 }, (_, i) =>
    JSON.stringify({ id: `v${i}`, creatorId: `c${i % 2}`, category: 'music', tags: ['a'], durationMs: 20_000 + i, createdAt: i === 0 ? undefined : T0 - DAY }),
  );
  lines.splice(2, 0, JSON.stringify({ id: 'bad video', creatorId: 'c0', category: 'music', durationMs: 1 }));
  writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

/** 20 good rows (no event ids: derived from content), plus bad ones at known lines. */
function writeHistory(): { file: string; good: number; badLines: number[] } {
  const rows = ['userId,videoId,type,occurredAt,watchMs'];
  for (let i = 0; i < 20; i++) rows.push(`u${i % 4},v${i % 5},${i % 3 === 0 ? 'like' : 'view'},${new Date(T0 + i * 60_000).toISOString()},${i * 100}`);
  rows.splice(4, 0, 'u1,v1,poke,2021-03-01T00:00:00Z,'); // line 5: bad type
  rows.splice(9, 0, 'u1,v9,view,2021-03-01T00:00:00Z,'); // line 10: unknown video
  rows.splice(12, 0, 'u1,v1,view,next tuesday,'); // line 13: bad time
  const file = join(dir, 'history.csv');
  writeFileSync(file, `${rows.join('\n')}\n`);
  return { file, good: 20, badLines: [5, 10, 13] };
}

describe(ImporterService.name, () => {
  let db: DataSource;
  let app: INestApplicationContext;
  let importer: ImporterService;
  const latest = Date.now();

  beforeAll(async () => {
    db = await createTestDataSource();
    app = await NestFactory.createApplicationContext(ImporterTestModule, { logger: false });
    importer = app.get(ImporterService);
  });

  beforeEach(() => truncateAllTables(db));

  afterAll(async () => {
    await app.close();
    await db.destroy();
  });

  const count = async (sql: string) => Number((await db.query(sql))[0].n);

  async function importAll(history: string, options: { chunkSize?: number; afterChunk?: (line: number) => void; bad?: BadRow[] } = {}) {
    const bad = options.bad ?? [];
    const { undated } = await importer.importVideos(join(dir, 'videos.jsonl'), videoFileRows(join(dir, 'videos.jsonl'), latest), { onBadRow: (b) => bad.push(b) });
    const report = await importer.importEvents(history, eventFileRows(history, latest), {
      source: `test:${history}`,
      knownVideos: await importer.videoIds(),
      chunkSize: options.chunkSize,
      afterChunk: options.afterChunk,
      onBadRow: (b) => bad.push(b),
    });
    await importer.datedFromFirstEvent(undated);
    return report;
  }

  it('imports the good rows, reports each bad one with its file, line and reason, and creates users and creators', async () => {
    writeCatalog();
    const { file, good, badLines } = writeHistory();
    const bad: BadRow[] = [];
    const report = await importAll(file, { bad });
    expect(report).toMatchObject({ rows: good + 3, records: good, written: good, bad: 3 });
    expect(bad.map((b) => `${b.file.split('/').pop()}:${b.line}`)).toEqual(['videos.jsonl:3', ...badLines.map((l) => `history.csv:${l}`)]);
    expect(bad[1].reason).toMatch(/^type must be one of/);
    expect(bad[2].reason).toBe('videoId is not in the catalog (got "v9")');
    expect(bad[3].reason).toMatch(/^occurredAt must be/);
    expect(await count(`SELECT count(*) n FROM interactions`)).toBe(good);
    expect(await count(`SELECT count(*) n FROM users`)).toBe(4);
    expect(await count(`SELECT count(*) n FROM creators`)).toBe(2);
    expect(await count(`SELECT count(*) n FROM interactions WHERE user_seq IS NOT NULL`)).toBe(0);
    // Real times kept; a video without a created time dates from its first event.
    const [first] = await db.query(`SELECT min(occurred_at) AS t FROM interactions`);
    expect(new Date(first.t).getTime()).toBe(T0);
    const [v0] = await db.query(`SELECT created_at FROM videos WHERE id = 'v0'`);
    expect(new Date(v0.created_at).getTime()).toBe(T0);
  });

  it('adds nothing when the same files are imported again', async () => {
    writeCatalog();
    const { file, good } = writeHistory();
    await importAll(file);
    const again = await importAll(file);
    expect(again).toMatchObject({ records: good, written: 0 });
    expect(await count(`SELECT count(*) n FROM interactions`)).toBe(good);
  });

  it('resumes after a crash from the last committed chunk, with no duplicates', async () => {
    writeCatalog();
    const { file, good } = writeHistory();
    let chunks = 0;
    const crash = () => {
      if (++chunks === 2) throw new Error('simulated crash');
    };
    await expect(importAll(file, { chunkSize: 6, afterChunk: crash })).rejects.toThrow('simulated crash');
    expect(await count(`SELECT count(*) n FROM interactions`)).toBe(12);
    const [checkpoint] = await db.query(`SELECT line FROM import_checkpoints`);
    expect(Number(checkpoint.line)).toBeGreaterThan(12);

    const resumed = await importAll(file, { chunkSize: 6 });
    expect(resumed.resumedAfterLine).toBe(Number(checkpoint.line));
    expect(resumed.written).toBe(good - 12);
    expect(await count(`SELECT count(*) n FROM interactions`)).toBe(good);
    expect(await count(`SELECT count(DISTINCT (user_id, event_id)) n FROM interactions`)).toBe(good);
    expect(await count(`SELECT count(*) n FROM import_checkpoints`)).toBe(0);
  });

  it('stops on a file whose rows are mostly bad, before writing any of it', async () => {
    writeCatalog();
    const file = join(dir, 'wrong.csv');
    const rows = ['userId,videoId,type,occurredAt', 'u1,v1,view,2021-03-01T00:00:00Z'];
    for (let i = 0; i < 5; i++) rows.push(`u1,v1,view,${i}-${i}`);
    writeFileSync(file, `${rows.join('\n')}\n`);
    await expect(importAll(file)).rejects.toThrow(MostlyBadFileError);
    await expect(importAll(file)).rejects.toThrow(/5 of the first 6 rows are bad/);
    expect(await count(`SELECT count(*) n FROM interactions`)).toBe(0);
  });
});
