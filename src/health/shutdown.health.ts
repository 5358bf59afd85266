import { Injectable } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import { ShutdownService } from '../lifecycle/shutdown.service';

/** Not ready once shutdown has begun, so load balancers stop routing to this instance. */
@Injectable()
export class ShutdownHealthIndicator {
  constructor(
    private readonly shutdown: ShutdownService,
    private readonly health: HealthIndicatorService,
  ) {}

  isHealthy(key = 'lifecycle') {
    const indicator = this.health.check(key);
    return this.shutdown.isDraining ? indicator.down({ message: 'shutting down' }) : indicator.up();
  }
}
