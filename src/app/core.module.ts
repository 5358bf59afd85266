import { Module } from '@nestjs/common';
import { ConfigModule } from '../config/config.module';
import { DatabaseModule } from '../database/database.module';
import { MetricsModule } from '../metrics/metrics.module';
import { QueueModule } from '../queue/queue.module';
import { RedisModule } from '../redis/redis.module';

/** Infrastructure both processes share: config, Postgres, Redis, BullMQ. */
@Module({
  imports: [ConfigModule, DatabaseModule, RedisModule, QueueModule, MetricsModule],
  exports: [ConfigModule, DatabaseModule, RedisModule, QueueModule, MetricsModule],
})
export class CoreModule {}
