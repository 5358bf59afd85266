import { Controller, Get } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { SkipRateLimits } from '../limits/skip-rate-limits.decorator';
import { HealthCheck, HealthCheckService, TypeOrmHealthIndicator } from '@nestjs/terminus';
import { RedisHealthIndicator } from '../redis/redis.health';
import { ShutdownHealthIndicator } from './shutdown.health';

@ApiTags('ops')
@SkipRateLimits()
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly db: TypeOrmHealthIndicator,
    private readonly redis: RedisHealthIndicator,
    private readonly lifecycle: ShutdownHealthIndicator,
  ) {}

  /** The process is up and serving HTTP; no dependency is checked. */
  @Get('live')
  live() {
    return { status: 'ok' };
  }

  /** Ready to take traffic: Postgres and Redis answer, and the process is not shutting down. */
  @Get('ready')
  @HealthCheck()
  ready() {
    return this.health.check([
      () => this.db.pingCheck('postgres', { timeout: 1500 }),
      () => this.redis.isHealthy('redis'),
      () => this.lifecycle.isHealthy('lifecycle'),
    ]);
  }
}
