import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { RedisHealthIndicator } from '../redis/redis.health';
import { HealthController } from './health.controller';
import { ShutdownHealthIndicator } from './shutdown.health';
import { WarmupHealthIndicator } from './warmup.health';

@Module({
  imports: [TerminusModule.forRoot({ logger: false })],
  controllers: [HealthController],
  providers: [RedisHealthIndicator, ShutdownHealthIndicator, WarmupHealthIndicator],
})
export class HealthModule {}
