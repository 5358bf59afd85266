import { Registry } from 'prom-client';
import { DataSource } from 'typeorm';
import { AppConfig } from '../../src/config/app-config';
import { ImpressionRow } from '../../src/feed/support/impression-copy';
import { ImpressionLogger } from '../../src/feed/data/impression-logger.service';
import { createTestDataSource, truncateAllTables } from '../support/database';
import { TcpProxy } from '../support/tcp-proxy';
import { testDatabaseUrl } from '../support/test-env';

function rows(requestId: string, n: number, withFeatures = true): ImpressionRow[] {
  return Array.from({ length: n }, (_, position) => ({
    requestId,
    userId: 'u-1',
    videoId: `v-${position}`,
    position,
    source: position % 2 ? 'ann' : 'trending',
    score: withFeatures ? 0.5 + position : null,
    modelVersion: withFeatures ? 'model-x' : null,
    features: withFeatures ? Float32Array.from([position, 0.25, -1.5, 1e-3]) : null,
    servedAt: Date.UTC(2026, 10, 1, 12, 0, 0, 123),
  }));
}

describe(ImpressionLogger.name, () => {
  let db: DataSource;
  let proxy: TcpProxy;
  let logger: ImpressionLogger;
  const stored = (requestId: string) =>
    db.query(`SELECT * FROM impressions WHERE request_id = $1 ORDER BY position`, [requestId]) as Promise<Record<string, unknown>[]>;

  beforeAll(async () => {
    db = await createTestDataSource();
    await truncateAllTables(db);
    const url = new URL(testDatabaseUrl());
    proxy = new TcpProxy(Number(url.port || 5432), url.hostname);
    url.port = String(await proxy.start());
    logger = new ImpressionLogger(Object.assign(new AppConfig(), { DATABASE_URL: url.toString(), IMPRESSION_FLUSH_MS: 60_000 }), new Registry());
  });

  afterAll(async () => {
    await proxy.close();
    await db.destroy();
  });

  it('writes batches with every field intact (binary COPY), and a retried batch does not duplicate (only its new rows are written)', async () => {
    logger.log(rows('req-1', 3));
    logger.log(rows('req-2', 2, false));
    await logger.flush();
    const first = await stored('req-1');
    expect(first).toHaveLength(3);
    expect(first[2]).toMatchObject({
      user_id: 'u-1',
      video_id: 'v-2',
      position: 2,
      source: 'trending',
      score: 2.5,
      model_version: 'model-x',
      features: [2, 0.25, -1.5, 0.001],
      served_at: new Date(Date.UTC(2026, 10, 1, 12, 0, 0, 123)),
    });
    expect(await stored('req-2')).toEqual([
      expect.objectContaining({ score: null, model_version: null, features: null }),
      expect.objectContaining({ position: 1 }),
    ]);
    // A batch holding rows already written (a retry after a lost COMMIT answer) writes only the new ones.
    logger.log(rows('req-1', 3));
    logger.log(rows('req-5', 2));
    await logger.flush();
    expect(await stored('req-1')).toHaveLength(3);
    expect(await stored('req-5')).toHaveLength(2);
  });

  it('keeps what it could not write while Postgres is unreachable, and writes it once it is back', async () => {
    proxy.setDown(true);
    logger.log(rows('req-3', 4));
    await logger.flush();
    proxy.setDown(false);
    expect(await stored('req-3')).toHaveLength(0);
    const deadline = Date.now() + 5000;
    while ((await stored('req-3')).length === 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      await logger.flush();
    }
    expect(await stored('req-3')).toHaveLength(4);
  });

  describe('a row Postgres refuses', () => {
    let isolated: ImpressionLogger;
    let registry: Registry;
    const dropped = async () => (await registry.getSingleMetric('reelrank_impressions_dropped_total')!.get()).values;

    beforeEach(() => {
      registry = new Registry();
      isolated = new ImpressionLogger(Object.assign(new AppConfig(), { DATABASE_URL: testDatabaseUrl(), IMPRESSION_FLUSH_MS: 60_000 }), registry);
    });

    afterEach(() => isolated.onApplicationShutdown());

    it('is dropped and counted alone: the other users\' rows of its batch and every later batch are written', async () => {
      const bad = rows('req-bad', 3).map((r, i) => (i === 1 ? { ...r, userId: 'u\u0000nul' } : r));
      isolated.log([...rows('req-other-1', 9), ...bad, ...rows('req-other-2', 9)]);
      await isolated.flush();
      expect(await stored('req-other-1')).toHaveLength(9);
      expect(await stored('req-other-2')).toHaveLength(9);
      expect((await stored('req-bad')).map((r) => r.position)).toEqual([0, 2]);
      expect(await dropped()).toEqual([{ labels: { reason: 'refused' }, value: 1 }]);
      isolated.log(rows('req-later', 4));
      await isolated.flush();
      expect(await stored('req-later')).toHaveLength(4);
    });

    it('is not the verdict when the statement itself fails (a missing table): nothing is dropped, the batch waits', async () => {
      await db.query(`ALTER TABLE impressions RENAME TO impressions_away`);
      try {
        isolated.log(rows('req-away', 5));
        await isolated.flush();
      } finally {
        await db.query(`ALTER TABLE impressions_away RENAME TO impressions`);
      }
      expect(await dropped()).toEqual([]);
      expect(await stored('req-away')).toHaveLength(0);
      await new Promise((r) => setTimeout(r, 600)); // the retry backoff
      await isolated.flush();
      expect(await stored('req-away')).toHaveLength(5);
    });
  });

  it('flushes everything still buffered when the app shuts down', async () => {
    logger.log(rows('req-4', 5));
    await logger.onApplicationShutdown();
    expect(await stored('req-4')).toHaveLength(5);
  });
});
