import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { seedTestWorld } from '../factories/seeded-world.factory';
import { createTestDataSource, truncateAllTables } from '../support/database';
import { createTestAppWithDemoMode } from '../support/demo-mode';
import { runTs } from '../support/run-ts';

const run = promisify(execFile);
const ROOT = path.resolve(__dirname, '../..');
const CLIENT = path.join(ROOT, 'clients/typescript');
const TSC = path.join(ROOT, 'node_modules/typescript/bin/tsc');
const SCHEMA = path.join(CLIENT, 'src/schema.d.ts');
const WORK = path.join(ROOT, 'node_modules/.cache/reelrank-client-check', String(process.pid));

/** schema.d.ts for an OpenAPI document, by the generator `npm run client:generate` runs (openapi-typescript). `name` keeps concurrent runs apart. */
async function generatedSchema(doc: object, name: string): Promise<string> {
  mkdirSync(WORK, { recursive: true });
  const input = path.join(WORK, `${name}.openapi.json`);
  const output = path.join(WORK, `${name}.schema.d.ts`);
  writeFileSync(input, JSON.stringify(doc));
  const result = await runTs('scripts/generate-client.ts', ['--document', input, '--out', output]);
  if (result.code !== 0) throw new Error(`client:generate failed: ${result.stderr}`);
  return readFileSync(output, 'utf8');
}

/**
 * A copy of the client package with the given schema, type-checked with its own tsconfig
 * (DOM types, no Node in src). It sits under node_modules/.cache so openapi-fetch resolves.
 * `name` keeps concurrent checks apart.
 */
async function typeCheck(schema: string, name: string): Promise<{ ok: boolean; output: string }> {
  const dir = path.join(WORK, `package-${name}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  for (const entry of ['src', 'example', 'tsconfig.json']) cpSync(path.join(CLIENT, entry), path.join(dir, entry), { recursive: true });
  writeFileSync(path.join(dir, 'src/schema.d.ts'), schema);
  try {
    await run(process.execPath, [TSC, '-p', path.join(dir, 'tsconfig.json')], { cwd: dir });
    return { ok: true, output: '' };
  } catch (err) {
    return { ok: false, output: String((err as { stdout?: string }).stdout ?? err) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The served document with a feed item field renamed (videoId -> id): what an api change under the client looks like. */
function withRenamedFeedField(served: object): object {
  const renamed = structuredClone(served) as unknown as { components: { schemas: Record<string, { properties: Record<string, unknown>; required: string[] }> } };
  const item = renamed.components.schemas.FeedItemDto;
  item.properties.id = item.properties.videoId;
  delete item.properties.videoId;
  item.required = item.required.map((name) => (name === 'videoId' ? 'id' : name));
  return renamed;
}

/** A promise's outcome, so one started early fails the test that reads it, not the run (no unhandled rejection). */
type Settled<T> = { value: T } | { error: unknown };
const settle = <T>(p: Promise<T>): Promise<Settled<T>> => p.then((value) => ({ value }), (error: unknown) => ({ error }));
function valueOf<T>(s: Settled<T>): T {
  if ('error' in s) throw s.error;
  return s.value;
}

describe('typed TypeScript client (clients/typescript)', () => {
  let db: DataSource;
  let app: NestFastifyApplication;
  let served: object;
  let schema: string;
  /** Both type checks (each a tsc run of several seconds) start together once the document is served: jest runs in band, so the second core is free. */
  let checks: { current: Promise<Settled<{ ok: boolean; output: string }>>; renamed: Promise<Settled<{ ok: boolean; output: string }>> };

  beforeAll(async () => {
    db = await createTestDataSource();
    await truncateAllTables(db);
    await seedTestWorld(['--users', '5', '--videos', '120', '--history', '0']);
    app = await createTestAppWithDemoMode('true');
    served = (await request(app.getHttpServer()).get('/docs-json').expect(200)).body;
    const renamedSchema = settle(generatedSchema(withRenamedFeedField(served), 'renamed'));
    schema = await generatedSchema(served, 'served');
    checks = {
      current: settle(typeCheck(schema, 'current')),
      renamed: renamedSchema.then(async (s) => settle(typeCheck(valueOf(s), 'renamed'))),
    };
  }, 60_000);

  afterAll(async () => {
    await Promise.all([checks?.current, checks?.renamed]);
    await app?.close();
    await db?.destroy();
    rmSync(WORK, { recursive: true, force: true });
  });

  it('is generated from the OpenAPI document the app serves (run `npm run client:generate` after an api change)', () => {
    expect(readFileSync(SCHEMA, 'utf8')).toBe(schema);
  });

  it('type-checks, with its example, against that document', async () => {
    const checked = valueOf(await checks.current);
    expect(checked).toEqual({ ok: true, output: '' });
  }, 120_000);

  it('fails the type check when the api changes under it (a feed item field renamed)', async () => {
    const checked = valueOf(await checks.renamed);
    expect(checked.ok).toBe(false);
    expect(checked.output).toMatch(/mobile-session\.ts.*videoId/);
  }, 120_000);

  it('runs the example as a mobile app would: token, feed, events, next feed', async () => {
    await app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = app.getHttpServer().address() as { port: number };
    const result = await runTs('clients/typescript/example/mobile-session.ts', [`http://127.0.0.1:${port}`]);
    expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: '' });
    expect(result.stdout).toMatch(/first page \([0-9a-f-]{36}\):\n(  v_\d+ .*\n){5}events: 4 accepted, 0 duplicates\nnext page/);
    const ids = (section: string) => [...(result.stdout.split(section)[1] ?? '').matchAll(/^ {2}(v_\d+)/gm)].map((m) => m[1]).slice(0, 5);
    const first = ids('first page');
    const next = ids('next page');
    expect(next).toHaveLength(5);
    expect(next.filter((id) => first.includes(id))).toEqual([]);
  }, 60_000);
});
