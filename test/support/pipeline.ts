import { getQueueToken } from '@nestjs/bullmq';
import { INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Queue } from 'bullmq';
import { WorkerModule } from '../../src/app/worker.module';
import { AppConfig } from '../../src/config/app-config';
import { decodeUserState, UserState } from '../../src/features/user-state';
import { QueueName } from '../../src/queue/queue.types';
import { AnyRedis } from '../../src/redis/redis-connection';
import { REDIS } from '../../src/redis/redis.constants';
import { RedisKeys } from '../../src/redis/redis-keys';

/** The worker as src/worker.ts builds it (processors running), in this process and without its metrics port. */
export async function createTestWorker(): Promise<INestApplicationContext> {
  process.env.WORKER_METRICS_PORT = '0';
  const app = await NestFactory.createApplicationContext(WorkerModule, { logger: false });
  await app.init();
  return app;
}

/** Waits until the event queues have nothing waiting, delayed or active. */
export async function waitForQueuesIdle(app: INestApplicationContext, timeoutMs = 20_000): Promise<void> {
  const queues = [QueueName.Events, QueueName.Interactions].map((n) => app.get<Queue>(getQueueToken(n), { strict: false }));
  await eventually(
    async () => {
      let busy = 0;
      for (const q of queues) {
        const counts = await q.getJobCounts('waiting', 'delayed', 'active', 'prioritized');
        busy += Object.values(counts).reduce((a, b) => a + b, 0);
      }
      return busy === 0;
    },
    'event queues idle',
    timeoutMs,
  );
}

/** A user's online state as the worker stored it. */
export async function userState(app: INestApplicationContext, userId: string): Promise<UserState> {
  const raw = await app.get<AnyRedis>(REDIS).get(app.get(RedisKeys).userFeatures(userId));
  return decodeUserState(raw, app.get(AppConfig).EMBEDDING_DIM);
}

/** Polls `check` until it returns true; throws naming `what` after `timeoutMs`. */
export async function eventually(check: () => Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
