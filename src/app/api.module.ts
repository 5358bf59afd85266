import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module';
import { EventsApiModule } from '../events/events-api.module';
import { HealthModule } from '../health/health.module';
import { MetricsController } from '../metrics/metrics.controller';
import { CoreModule } from './core.module';

/** The HTTP process: controllers over the shared providers. */
@Module({
  imports: [CoreModule, AuthModule, HealthModule, EventsApiModule],
  controllers: [MetricsController],
})
export class ApiModule {}
