import { Module } from '@nestjs/common';
import { HealthModule } from '../health/health.module';
import { CoreModule } from './core.module';

/** The HTTP process: controllers over the shared providers. */
@Module({
  imports: [CoreModule, HealthModule],
})
export class ApiModule {}
