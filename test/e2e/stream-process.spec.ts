import { INestApplicationContext } from '@nestjs/common';
import { ChannelModel, ConfirmChannel, connect } from 'amqplib';
import { DataSource } from 'typeorm';
import { loadConfig } from '../../src/config/app-config';
import { deadLetterName, rmqOptions } from '../../src/stream/stream-transport';
import { uniqueId } from '../factories/sequence';
import { createTestDataSource, truncateAllTables } from '../support/database';
import { createCatalog, snapshotOnlineState } from '../support/events';
import { AppProcess, buildDist, freePort, scrapeMetric, spawnEntry, waitForHttp } from '../support/processes';
import { clearTestRedis } from '../support/redis';
import { createTestWorker, eventually, waitForQueuesIdle } from '../support/test-worker';

/** The `stream` entry point as deployed (dist), killed with SIGKILL in the middle of a backlog. */
describe('stream process crash', () => {
  const queue = `${process.env.REDIS_PREFIX}.crash`;
  let db: DataSource;
  let worker: INestApplicationContext;
  let broker: ChannelModel;
  let channel: ConfirmChannel;
  let videos: string[];
  let stream: AppProcess | null = null;

  const startStream = async (name: string) => {
    const port = await freePort();
    const proc = spawnEntry(name, 'stream', {
      STREAM_TRANSPORT: 'rmq',
      STREAM_RMQ_QUEUE: queue,
      STREAM_CONCURRENCY: '8',
      WORKER_METRICS_PORT: String(port),
    });
    await waitForHttp(proc, port, '/metrics');
    // Consuming once the queue has a consumer (asserting it with the same arguments is a no-op).
    const { queueOptions } = rmqOptions(loadConfig({ ...process.env, STREAM_RMQ_QUEUE: queue }));
    await eventually(async () => (await channel.assertQueue(queue, queueOptions)).consumerCount > 0, `${name} consuming`, 30_000);
    return { proc, port };
  };

  beforeAll(async () => {
    buildDist();
    db = await createTestDataSource();
    await truncateAllTables(db);
    await clearTestRedis();
    videos = await createCatalog(db, 12);
    worker = await createTestWorker();
    broker = await connect(loadConfig().STREAM_RMQ_URL);
    channel = await broker.createConfirmChannel();
  }, 120_000);

  afterAll(async () => {
    await stream?.stop();
    await channel?.deleteQueue(queue).catch(() => undefined);
    await channel?.deleteQueue(deadLetterName(queue)).catch(() => undefined);
    await broker?.close();
    await worker?.close();
    await db?.destroy();
  });

  it('redelivers what a killed stream process had not acknowledged: every event applied exactly once', async () => {
    const first = await startStream('stream-1');
    stream = first.proc;
    const users = Array.from({ length: 10 }, () => uniqueId('sk'));
    const likes = new Map(users.map((u) => [u, 0]));
    const total = 400;
    for (let i = 0; i < total; i++) {
      const userId = users[i % users.length];
      likes.set(userId, likes.get(userId)! + 1);
      const body = { userId, events: [{ eventId: uniqueId('e'), type: 'like', videoId: videos[i % videos.length] }] };
      channel.sendToQueue(queue, Buffer.from(JSON.stringify(body)), { persistent: true });
    }
    await channel.waitForConfirms();

    await eventually(async () => (await scrapeMetric(first.port, 'reelrank_stream_messages_total')) >= 50, 'some messages ingested', 30_000);
    await first.proc.kill();
    const left = (await channel.checkQueue(queue)).messageCount;
    expect(left).toBeGreaterThan(0);

    const second = await startStream('stream-2');
    stream = second.proc;
    await eventually(async () => (await channel.checkQueue(queue)).messageCount === 0, 'the backlog drained', 60_000);
    await waitForQueuesIdle(worker);
    await eventually(async () => {
      const [{ n }] = await db.query(`SELECT count(*)::int AS n FROM interactions WHERE user_id = ANY($1)`, [users]);
      return n === total;
    }, 'every event logged once', 30_000);

    const snapshot = await snapshotOnlineState(worker, users, []);
    for (const userId of users) expect(snapshot.users[userId].state.counts.like).toBe(likes.get(userId));
    expect((await channel.checkQueue(deadLetterName(queue))).messageCount).toBe(0);
  }, 180_000);
});
