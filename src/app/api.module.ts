import { Module, ModuleMetadata } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module';
import { DemoTokenModule } from '../auth/demo-token.module';
import { DemoModule } from '../demo/demo.module';
import { CatalogAdminModule } from '../catalog/catalog-admin.module';
import { AppConfig } from '../config/app-config';
import { EventsApiModule } from '../events/events-api.module';
import { FeedModule } from '../feed/feed.module';
import { HealthModule } from '../health/health.module';
import { ImporterApiModule } from '../importer/importer-api.module';
import { RateLimitModule } from '../limits/rate-limit.module';
import { LoggingModule } from '../logging/logging.module';
import { MetricsController } from '../metrics/metrics.controller';
import { METRICS_SERVER_PORT, MetricsServer } from '../metrics/metrics-server';
import { MonitoringApiModule } from '../monitoring/monitoring-api.module';
import { ModelsAdminModule } from '../models/models-admin.module';
import { CoreModule } from './core.module';

/** The HTTP process: controllers over the shared providers. */
@Module({
  imports: [
    CoreModule,
    LoggingModule.forProcess('api'),
    RateLimitModule,
    AuthModule,
    HealthModule,
    EventsApiModule,
    FeedModule,
    CatalogAdminModule,
    ImporterApiModule,
    ModelsAdminModule,
    MonitoringApiModule,
  ],
  controllers: [MetricsController],
})
export class ApiModule {}

/** /metrics on METRICS_PORT, apart from the public port. */
@Module({ providers: [MetricsServer, { provide: METRICS_SERVER_PORT, useFactory: (c: AppConfig) => c.METRICS_PORT, inject: [AppConfig] }] })
class ApiMetricsPortModule {}

/** Modules the api registers only in some configurations (read when the app is created, not at import). */
export function optionalApiModules(config: AppConfig): NonNullable<ModuleMetadata['imports']> {
  return [...(config.DEMO_MODE ? [DemoTokenModule, DemoModule] : []), ...(config.METRICS_PORT > 0 ? [ApiMetricsPortModule] : [])];
}
