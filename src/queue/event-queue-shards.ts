import { Inject, Injectable, OnApplicationShutdown } from '@nestjs/common';
import { ConnectionOptions, Queue } from 'bullmq';
import { AppConfig } from '../config/app-config';
import type { ApplyEventsJob } from '../events/event-jobs';
import { RedisKeys } from '../redis/redis-keys';
import { BULL_CONNECTION } from './bull-connection.module';
import { parseShardList, shardOfUser } from './event-shards';
import { QueueErrors } from './queue-errors';
import { QueueName } from './queue.types';

/** Shards when EVENT_QUEUE_SHARDS is 0: a multiple of 2, 3, 4 and 6 masters, so each master gets as many. */
const CLUSTER_DEFAULT_SHARDS = 12;

export function eventQueueShardCount(config: Pick<AppConfig, 'EVENT_QUEUE_SHARDS' | 'REDIS_CLUSTER_NODES'>): number {
  if (config.EVENT_QUEUE_SHARDS > 0) return config.EVENT_QUEUE_SHARDS;
  return config.REDIS_CLUSTER_NODES ? CLUSTER_DEFAULT_SHARDS : 1;
}

/**
 * The events queue, split in shards: each shard is a BullMQ queue under its own hash tag
 * (RedisKeys.eventQueuePrefix), a user's jobs always on the same shard (so they keep their
 * order, as one queue did). With one shard it is the queue it always was.
 */
@Injectable()
export class EventQueueShards implements OnApplicationShutdown {
  readonly count: number;
  readonly queues: Queue<ApplyEventsJob>[];

  constructor(
    @Inject(BULL_CONNECTION) connection: ConnectionOptions,
    keys: RedisKeys,
    private readonly config: AppConfig,
    errors: QueueErrors,
  ) {
    this.count = eventQueueShardCount(config);
    this.queues = Array.from({ length: this.count }, (_, shard) =>
      errors.watch(new Queue<ApplyEventsJob>(QueueName.Events, { connection, prefix: keys.eventQueuePrefix(shard, this.count) }), this.label(shard)),
    );
  }

  shardOf(userId: string): number {
    return shardOfUser(userId, this.count);
  }

  queueOf(userId: string): Queue<ApplyEventsJob> {
    return this.queues[this.shardOf(userId)];
  }

  /** The shards this process's workers consume (WORKER_SHARDS; all by default). */
  consumed(): number[] {
    return parseShardList(this.config.WORKER_SHARDS, this.count);
  }

  /** The name of a shard in logs, metrics and dead-letter listings: `events`, or `events.<shard>` when there are several. */
  label(shard: number): string {
    return this.count === 1 ? QueueName.Events : `${QueueName.Events}.${shard}`;
  }

  async onApplicationShutdown(): Promise<void> {
    await Promise.all(this.queues.map((q) => q.close()));
  }
}
