import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { SkipRateLimits } from '../limits/skip-rate-limits.decorator';
import { HealthCheck, HealthCheckService, HealthIndicatorResult, TypeOrmHealthIndicator } from '@nestjs/terminus';
import { RedisHealthIndicator } from '../redis/redis.health';
import { ShutdownHealthIndicator } from './shutdown.health';
import { WarmupHealthIndicator } from './warmup.health';

@ApiTags('ops')
@SkipRateLimits()
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly db: TypeOrmHealthIndicator,
    private readonly redis: RedisHealthIndicator,
    private readonly lifecycle: ShutdownHealthIndicator,
    private readonly warmup: WarmupHealthIndicator,
  ) {}

  /** The process is up and serving HTTP; no dependency is checked. */
  @Get('live')
  @ApiOperation({ summary: 'Liveness: the process serves HTTP' })
  @ApiOkResponse({ description: 'Always, while the process runs', example: { status: 'ok' } })
  live() {
    return { status: 'ok' };
  }

  /**
   * Ready to take traffic: boot warm-up is done (ANN index built), Redis answers and the
   * process is not shutting down. Postgres is
   * reported but does not decide (`degraded`, still 200): with it down, feeds are still served (catalog in memory,
   * state in Redis) and events still accepted (queued until it is back), so taking every
   * api out of rotation would turn a Postgres outage into a full one.
   */
  @Get('ready')
  @ApiOperation({ summary: 'Readiness: Redis answers and the process is not shutting down', description: '503 while draining or without Redis; Postgres down is reported as degraded with 200.' })
  @HealthCheck()
  ready() {
    return this.health.check([
      async () => degradedWhenDown(await this.db.pingCheck('postgres', { timeout: 1500 })),
      () => this.redis.isHealthy('redis'),
      () => this.lifecycle.isHealthy('lifecycle'),
      () => this.warmup.isHealthy('warmup'),
    ]);
  }
}

/** A dependency the api can serve without: `down` becomes `degraded` (answered 200, status `degraded`). */
function degradedWhenDown(result: HealthIndicatorResult): HealthIndicatorResult {
  return Object.fromEntries(
    Object.entries(result).map(([key, value]) => [key, value.status === 'down' ? { ...value, status: 'degraded' } : value]),
  ) as HealthIndicatorResult;
}
