import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module';
import { EventsApiModule } from '../events/events-api.module';
import { CatalogAdminModule } from '../catalog/catalog-admin.module';
import { FeedModule } from '../feed/feed.module';
import { HealthModule } from '../health/health.module';
import { MetricsController } from '../metrics/metrics.controller';
import { ModelsAdminModule } from '../training/models-admin.module';
import { CoreModule } from './core.module';

/** The HTTP process: controllers over the shared providers. */
@Module({
  imports: [CoreModule, AuthModule, HealthModule, EventsApiModule, FeedModule, CatalogAdminModule, ModelsAdminModule],
  controllers: [MetricsController],
})
export class ApiModule {}
