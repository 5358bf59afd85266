import { Controller, Get, Header, Headers, NotFoundException, UnauthorizedException } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { timingSafeEqual } from 'node:crypto';
import { Registry } from 'prom-client';
import { AppConfig } from '../config/app-config';
import { SkipRateLimits } from '../limits/skip-rate-limits.decorator';

/**
 * GET /metrics on the api port: absent when METRICS_PORT serves it apart (see
 * MetricsServer), behind `Authorization: Bearer <METRICS_TOKEN>` when that is set.
 */
@ApiExcludeController()
@SkipRateLimits()
@Controller('metrics')
export class MetricsController {
  private readonly expected: Buffer | null;

  constructor(
    private readonly registry: Registry,
    private readonly config: AppConfig,
  ) {
    this.expected = config.METRICS_TOKEN ? Buffer.from(`Bearer ${config.METRICS_TOKEN}`) : null;
  }

  @Get()
  @Header('Content-Type', 'text/plain; version=0.0.4; charset=utf-8')
  metrics(@Headers('authorization') authorization?: string): Promise<string> {
    if (this.config.METRICS_PORT > 0) throw new NotFoundException(`metrics are served on port ${this.config.METRICS_PORT}`);
    if (this.expected) {
      const given = Buffer.from(authorization ?? '');
      if (given.length !== this.expected.length || !timingSafeEqual(given, this.expected)) {
        throw new UnauthorizedException('authorization must be Bearer <METRICS_TOKEN>');
      }
    }
    return this.registry.metrics();
  }
}
