import { Module, OnModuleInit } from '@nestjs/common';
import { DriftController } from './drift.controller';
import { DriftMetrics } from './drift.metrics';
import { DriftRepository } from './drift.repository';

/** Drift monitoring in the api: `GET /v1/admin/drift` and the drift gauges on /metrics. */
@Module({
  controllers: [DriftController],
  providers: [DriftRepository, DriftMetrics],
})
export class MonitoringApiModule implements OnModuleInit {
  constructor(
    private readonly metrics: DriftMetrics,
    private readonly repository: DriftRepository,
  ) {}

  onModuleInit(): void {
    this.metrics.refreshOnScrape(async () => (await this.repository.latest(1))[0] ?? null);
  }
}
