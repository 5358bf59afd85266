import { Job, Queue } from 'bullmq';
import { DataSource } from 'typeorm';
import { Rng } from '../../seed/random';
import { DRIFT_CHECK_JOB } from '../../src/monitoring/drift-check.processor';
import { QueueName } from '../../src/queue/queue.types';
import { RedisKeys } from '../../src/redis/redis-keys';
import { insertImpressions } from '../factories/impression.factory';
import { createModelVersion } from '../factories/model-version.factory';
import { ChildApp, startWorker } from '../support/child-process';
import { createTestDataSource } from '../support/database';
import { testRedisPrefix } from '../support/test-env';

jest.setTimeout(90_000);

const FEATURES = ['video_like_rate', 'user_like_rate', 'video_duration_log', 'user_follows_creator', 'video_skip_rate', 'user_skip_rate'];

function rows(rng: Rng, n: number): Float32Array {
  return Float32Array.from({ length: n * FEATURES.length }, () => rng.next());
}

describe('graceful shutdown of a real worker process', () => {
  let db: DataSource;
  let queue: Queue;
  let worker: ChildApp | undefined;

  beforeAll(async () => {
    db = await createTestDataSource();
    await db.query('TRUNCATE impressions, model_versions, drift_reports, drift_references RESTART IDENTITY');
    const rng = new Rng(5);
    const { entity } = await createModelVersion(db, { features: FEATURES, trainingRows: rows(rng, 5000) });
    // enough live rows that a drift check takes a while
    for (let i = 0; i < 5; i++) await insertImpressions(db, { modelVersion: entity.id, rows: rows(rng, 10_000), width: FEATURES.length });
    queue = new Queue(QueueName.Monitoring, {
      connection: { url: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379' },
      prefix: new RedisKeys(testRedisPrefix()).bullPrefix,
    });
  });

  afterAll(async () => {
    await worker?.stop('SIGKILL');
    await queue.obliterate({ force: true });
    await queue.close();
    await db.destroy();
  });

  it('finishes the job it is running when SIGTERM arrives, then exits', async () => {
    worker = await startWorker({ DRIFT_CHECK_EVERY: 'off', DRIFT_MAX_SAMPLES: '50000', DRIFT_MIN_SAMPLES: '100' });
    const job = await queue.add(DRIFT_CHECK_JOB, {});
    const deadline = Date.now() + 30_000;
    while ((await job.getState()) !== 'active') {
      if (Date.now() > deadline) throw new Error(`job never became active: ${await job.getState()}`);
      await new Promise((r) => setTimeout(r, 5));
    }
    const signalledAt = Date.now();
    worker.proc.kill('SIGTERM');
    await worker.exited;

    const finished = (await Job.fromId(queue, job.id!))!;
    expect(await finished.getState()).toBe('completed');
    expect(finished.finishedOn).toBeGreaterThan(signalledAt);
    // the model's first check: it captures the live reference the later checks compare with
    expect(finished.returnvalue).toMatchObject({ status: 'insufficient_data' });
    const reports = await db.query('SELECT status, reference, sample_size, reason FROM drift_reports');
    expect(reports).toEqual([{ status: 'insufficient_data', reference: 'pending', sample_size: 50_000, reason: expect.stringMatching(/^live reference captured from 50000 impressions/) }]);
    expect(await db.query('SELECT sample_size FROM drift_references')).toEqual([{ sample_size: 50_000 }]);
    await worker.waitForLog((l) => typeof l.msg === 'string' && /^stopped taking work \(SIGTERM\): [1-9]\d* queue worker\(s\) closed/.test(l.msg));
    expect(worker.logs.filter((l) => l.level >= 50)).toEqual([]);
  });
});
