import { INestApplicationContext, INestMicroservice } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { MicroserviceOptions } from '@nestjs/microservices';
import { ChannelModel, connect, ConfirmChannel } from 'amqplib';
import { DataSource } from 'typeorm';
import { loadConfig } from '../../src/config/app-config';
import { EventType } from '../../src/events/event-types';
import { StreamMetrics } from '../../src/stream/stream.metrics';
import { StreamModule } from '../../src/stream/stream.module';
import { deadLetterName, streamTransport } from '../../src/stream/stream-transport';
import { createTestDataSource, truncateAllTables } from '../support/database';
import { clearTestRedis } from '../support/redis';
import { createCatalog, snapshotOnlineState } from '../support/events';
import { createTestWorker, eventually, waitForQueuesIdle } from '../support/test-worker';
import { uniqueId } from '../factories/sequence';

interface WireEvent {
  eventId: string;
  type: EventType;
  videoId: string;
  watchMs?: number;
}

const queue = `${process.env.REDIS_PREFIX}.interactions`;

async function startStream(): Promise<INestMicroservice> {
  const app = await NestFactory.createMicroservice<MicroserviceOptions>(StreamModule, {
    ...streamTransport(loadConfig()),
    logger: false,
  });
  await app.listen();
  return app;
}

async function streamCount(app: INestMicroservice, outcome: string): Promise<number> {
  const metric = await app.get(StreamMetrics).messages.get();
  return metric.values.find((v) => v.labels.outcome === outcome)?.value ?? 0;
}

describe('stream entry point (RabbitMQ)', () => {
  let db: DataSource;
  let videos: string[];
  let worker: INestApplicationContext;
  let broker: ChannelModel;
  let channel: ConfirmChannel;
  const saved = { ...process.env };

  const publish = async (body: unknown) => {
    const content = Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
    channel.sendToQueue(queue, content, { persistent: true, contentType: 'application/json' });
    await channel.waitForConfirms();
  };

  const interactionCount = async (userIds: string[]) =>
    Number((await db.query(`SELECT count(*) AS n FROM interactions WHERE user_id = ANY($1)`, [userIds]))[0].n);

  beforeAll(async () => {
    Object.assign(process.env, {
      STREAM_TRANSPORT: 'rmq',
      STREAM_RMQ_QUEUE: queue,
      STREAM_CONCURRENCY: '4',
      STREAM_RETRY_DELAY_MS: '50',
      WORKER_METRICS_PORT: '0',
    });
    db = await createTestDataSource();
    await truncateAllTables(db);
    await clearTestRedis();
    videos = await createCatalog(db, 12);
    worker = await createTestWorker();
    broker = await connect(loadConfig().STREAM_RMQ_URL);
    channel = await broker.createConfirmChannel();
  }, 60_000);

  afterAll(async () => {
    await channel?.deleteQueue(queue).catch(() => undefined);
    await channel?.deleteQueue(deadLetterName(queue)).catch(() => undefined);
    await broker?.close();
    await worker?.close();
    await db?.destroy();
    process.env = saved;
  });

  it('turns published messages into accepted events in Redis state and the interaction log, and dedupes a resent message', async () => {
    const stream = await startStream();
    try {
      const users = [uniqueId('su'), uniqueId('su')];
      const messages = users.map((userId, u) => ({
        userId,
        events: [
          { eventId: uniqueId('e'), type: 'like', videoId: videos[u] },
          { eventId: uniqueId('e'), type: 'view', videoId: videos[u + 2], watchMs: 4000 },
          { eventId: uniqueId('e'), type: 'skip', videoId: videos[u + 4], watchMs: 300 },
        ] satisfies WireEvent[],
      }));
      for (const m of messages) await publish(m);
      await publish(messages[0]);

      await eventually(async () => (await streamCount(stream, 'ingested')) === 3, '3 messages ingested');
      await waitForQueuesIdle(worker);
      await eventually(async () => (await interactionCount(users)) === 6, '6 interaction rows');

      const snapshot = await snapshotOnlineState(worker, users, []);
      for (const userId of users) {
        expect(snapshot.users[userId].state.counts).toMatchObject({ like: 1, view: 1, skip: 1 });
        expect(snapshot.users[userId].applied).toHaveLength(3 * 2);
      }
      expect(await streamCount(stream, 'dead_lettered')).toBe(0);
    } finally {
      await stream.close();
    }
  }, 30_000);

  it('dead-letters poison messages without blocking the messages behind them', async () => {
    const stream = await startStream();
    try {
      const userId = uniqueId('su');
      await publish('this is not json');
      await publish({ userId, events: [{ eventId: uniqueId('e'), type: 'teleport', videoId: videos[0] }] });
      await publish({ events: [{ eventId: uniqueId('e'), type: 'like', videoId: videos[0] }] });
      await publish({ userId, events: [{ eventId: uniqueId('e'), type: 'like', videoId: 'no-such-video' }] });
      await publish({ userId, events: [{ eventId: uniqueId('e'), type: 'like', videoId: videos[1] }] });

      await eventually(async () => (await streamCount(stream, 'ingested')) === 1, 'the good message ingested');
      await eventually(async () => (await streamCount(stream, 'dead_lettered')) === 4, '4 messages dead-lettered');
      await eventually(
        async () => (await channel.checkQueue(deadLetterName(queue))).messageCount === 4,
        '4 messages in the dead-letter queue',
      );
      const first = await channel.get(deadLetterName(queue), { noAck: false });
      expect(first && first.content.toString()).toBe('this is not json');
      if (first) channel.nack(first, false, true);

      await waitForQueuesIdle(worker);
      await eventually(async () => (await interactionCount([userId])) === 1, 'the good event logged');
    } finally {
      await stream.close();
    }
  }, 30_000);

  it('loses nothing when the consumer stops mid-stream: unacked messages are redelivered to the next one', async () => {
    const users = Array.from({ length: 8 }, () => uniqueId('su'));
    const types: EventType[] = ['like', 'view', 'complete', 'share'];
    const sent = new Map<string, Record<string, number>>(users.map((u) => [u, {}]));
    for (let i = 0; i < 240; i++) {
      const userId = users[i % users.length];
      const type = types[i % types.length];
      const counts = sent.get(userId)!;
      counts[type] = (counts[type] ?? 0) + 1;
      await publish({ userId, events: [{ eventId: uniqueId('e'), type, videoId: videos[i % videos.length], watchMs: 1000 }] });
    }

    const first = await startStream();
    await eventually(async () => (await streamCount(first, 'ingested')) >= 40, '40 messages ingested', 20_000);
    await first.close();
    const firstIngested = await streamCount(first, 'ingested');
    const left = (await channel.checkQueue(queue)).messageCount;
    expect(firstIngested).toBeLessThan(240);
    expect(left).toBeGreaterThan(0);

    const second = await startStream();
    try {
      await eventually(async () => (await channel.checkQueue(queue)).messageCount === 0, 'queue drained', 30_000);
      await eventually(
        async () => firstIngested + (await streamCount(second, 'ingested')) >= 240,
        'every message ingested',
        30_000,
      );
      await waitForQueuesIdle(worker);
      await eventually(async () => (await interactionCount(users)) === 240, '240 interaction rows', 20_000);

      const snapshot = await snapshotOnlineState(worker, users, []);
      for (const userId of users) {
        expect(snapshot.users[userId].state.counts).toMatchObject(sent.get(userId)!);
      }
      const rows: { n: string }[] = await db.query(
        `SELECT count(DISTINCT event_id) AS n FROM interactions WHERE user_id = ANY($1)`,
        [users],
      );
      expect(Number(rows[0].n)).toBe(240);
    } finally {
      await second.close();
    }
  }, 90_000);
});
