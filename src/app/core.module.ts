import { Module } from '@nestjs/common';
import { ConfigModule } from '../config/config.module';
import { DatabaseModule } from '../database/database.module';
import { LifecycleModule } from '../lifecycle/lifecycle.module';
import { MetricsModule } from '../metrics/metrics.module';
import { QueueModule } from '../queue/queue.module';
import { RedisModule } from '../redis/redis.module';

/** Infrastructure both processes share: config, Postgres, Redis, BullMQ, graceful shutdown. */
@Module({
  imports: [ConfigModule, DatabaseModule, RedisModule, QueueModule, MetricsModule, LifecycleModule],
  exports: [ConfigModule, DatabaseModule, RedisModule, QueueModule, MetricsModule, LifecycleModule],
})
export class CoreModule {}
