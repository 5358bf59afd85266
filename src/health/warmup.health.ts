import { Injectable } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import { WarmupService } from '../lifecycle/warmup.service';

/** Not ready while boot work (the ANN index build) is still running. */
@Injectable()
export class WarmupHealthIndicator {
  constructor(
    private readonly warmup: WarmupService,
    private readonly health: HealthIndicatorService,
  ) {}

  isHealthy(key = 'warmup') {
    const indicator = this.health.check(key);
    const waiting = this.warmup.waitingFor;
    return waiting.length ? indicator.down({ waitingFor: waiting }) : indicator.up();
  }
}
