import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { RedisHealthIndicator } from '../redis/redis.health';
import { HealthController } from './health.controller';
import { ShutdownHealthIndicator } from './shutdown.health';

@Module({
  imports: [TerminusModule.forRoot({ logger: false })],
  controllers: [HealthController],
  providers: [RedisHealthIndicator, ShutdownHealthIndicator],
})
export class HealthModule {}
