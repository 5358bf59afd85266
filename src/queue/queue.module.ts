import { BullModule } from '@nestjs/bullmq';
import { Module } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { RedisKeys } from '../redis/redis-keys';

@Module({
  imports: [
    BullModule.forRootAsync({
      inject: [AppConfig, RedisKeys],
      useFactory: (config: AppConfig, keys: RedisKeys) => ({
        connection: { url: config.REDIS_URL, maxRetriesPerRequest: null },
        prefix: keys.bullPrefix,
      }),
    }),
  ],
})
export class QueueModule {}
