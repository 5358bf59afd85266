import { BullModule } from '@nestjs/bullmq';
import { Global, Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { ConnectionOptions } from 'bullmq';
import { RedisKeys } from '../redis/redis-keys';
import { BULL_CONNECTION, BullConnectionModule } from './bull-connection.module';
import { QueueErrors } from './queue-errors';

/** BullMQ for both processes: the connection, the common prefix, and the error listener of every queue object. */
@Global()
@Module({
  imports: [
    DiscoveryModule,
    BullConnectionModule,
    BullModule.forRootAsync({
      imports: [BullConnectionModule],
      inject: [BULL_CONNECTION, RedisKeys],
      useFactory: (connection: ConnectionOptions, keys: RedisKeys) => ({ connection, prefix: keys.bullPrefix }),
    }),
  ],
  providers: [QueueErrors],
  exports: [BullConnectionModule, QueueErrors],
})
export class QueueModule {}
