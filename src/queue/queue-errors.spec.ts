import { DiscoveryService } from '@nestjs/core';
import { Queue } from 'bullmq';
import { Registry } from 'prom-client';
import { QueueErrors } from './queue-errors';

describe(QueueErrors.name, () => {
  it('counts and logs the errors of a queue whose Redis is unreachable, instead of letting BullMQ print them', async () => {
    const registry = new Registry();
    const errors = new QueueErrors(registry, { getProviders: () => [] } as unknown as DiscoveryService);
    const printed = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    // Port 1: nothing listens; no reconnection, so the error is emitted once and the queue stays down.
    const queue = new Queue('shard-x', { connection: { host: '127.0.0.1', port: 1, retryStrategy: () => null, maxRetriesPerRequest: null } });
    try {
      errors.watch(queue, 'events.3');
      errors.watch(queue, 'events.3'); // a second watch adds no second listener
      await new Promise<void>((resolve) => {
        const poll = setInterval(async () => {
          if ((await registry.getSingleMetricAsString('reelrank_queue_errors_total')).includes('queue="events.3"')) {
            clearInterval(poll);
            resolve();
          }
        }, 10);
      });
      expect(queue.listenerCount('error')).toBe(1);
      const text = await registry.getSingleMetricAsString('reelrank_queue_errors_total');
      expect(text).toMatch(/reelrank_queue_errors_total\{object="queue",queue="events.3"\} [1-9]/);
      expect(printed).not.toHaveBeenCalled();
    } finally {
      printed.mockRestore();
      await queue.close().catch(() => undefined);
    }
  });
});
