import { Inject, Module, OnApplicationShutdown } from '@nestjs/common';
import { ConnectionOptions } from 'bullmq';
import { Cluster } from 'ioredis';
import { AppConfig } from '../config/app-config';
import { closeRedisClient, createRedisClient } from '../redis/redis-connection';

export const BULL_CONNECTION = Symbol('BULL_CONNECTION');

/**
 * Delay before the n-th reconnection attempt. BullMQ's own grows as e^n up to 20 s, so
 * after an outage of ten seconds or more its queues and workers could stay away for up
 * to 20 s after Redis was back (events refused with 503, nothing processed); this one
 * reconnects within 2 s of Redis returning, however long it was away.
 */
const bullReconnectDelay = (attempt: number): number => Math.min(attempt * 100, 2000);

/**
 * What BullMQ connects with. A single node: options, so every Queue and Worker opens
 * its own connection. A cluster: BullMQ only builds plain clients from options, so it
 * gets one ioredis Cluster instance; queues share it, workers duplicate it for their
 * blocking reads, and this module closes it.
 */
@Module({
  providers: [
    {
      provide: BULL_CONNECTION,
      inject: [AppConfig],
      useFactory: (config: AppConfig): ConnectionOptions =>
        config.REDIS_CLUSTER_NODES
          ? (createRedisClient(config, { maxRetriesPerRequest: null }) as Cluster)
          : { url: config.REDIS_URL, maxRetriesPerRequest: null, retryStrategy: bullReconnectDelay },
    },
  ],
  exports: [BULL_CONNECTION],
})
export class BullConnectionModule implements OnApplicationShutdown {
  constructor(@Inject(BULL_CONNECTION) private readonly connection: ConnectionOptions) {}

  async onApplicationShutdown(): Promise<void> {
    if (this.connection instanceof Cluster) await closeRedisClient(this.connection);
  }
}
