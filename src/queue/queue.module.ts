import { BullModule } from '@nestjs/bullmq';
import { Module } from '@nestjs/common';
import { ConnectionOptions } from 'bullmq';
import { RedisKeys } from '../redis/redis-keys';
import { BULL_CONNECTION, BullConnectionModule } from './bull-connection.module';

@Module({
  imports: [
    BullModule.forRootAsync({
      imports: [BullConnectionModule],
      inject: [BULL_CONNECTION, RedisKeys],
      useFactory: (connection: ConnectionOptions, keys: RedisKeys) => ({ connection, prefix: keys.bullPrefix }),
    }),
  ],
})
export class QueueModule {}
