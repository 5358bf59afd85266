import { INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { getQueueToken } from '@nestjs/bullmq';
import { Queue } from 'bullmq';
import { WorkerModule } from '../../src/app/worker.module';
import { EventQueueShards } from '../../src/queue/event-queue-shards';
import { QueueName } from '../../src/queue/queue.types';

/** The worker exactly as src/worker.ts builds it (processors running; no metrics port in tests). Close it in afterAll. */
export async function createTestWorker(): Promise<INestApplicationContext> {
  const app = await NestFactory.createApplicationContext(WorkerModule, { logger: false });
  await app.init();
  return app;
}

/** Waits until the given queues (every shard of the events queue) have nothing waiting, delayed or active; throws after `timeoutMs`. */
export async function waitForQueuesIdle(
  app: INestApplicationContext,
  names: QueueName[] = [QueueName.Events],
  timeoutMs = 20_000,
): Promise<void> {
  const queues = names.flatMap((n) => (n === QueueName.Events ? app.get(EventQueueShards, { strict: false }).queues : [app.get<Queue>(getQueueToken(n), { strict: false })]));
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let busy = 0;
    for (const q of queues) {
      const c = await q.getJobCounts('waiting', 'delayed', 'active', 'prioritized');
      busy += Object.values(c).reduce((a, b) => a + b, 0);
    }
    if (busy === 0) return;
    if (Date.now() > deadline) throw new Error(`queues still busy (${busy} jobs) after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Polls `check` until it returns true; throws with `what` after `timeoutMs`. */
export async function eventually(check: () => Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
