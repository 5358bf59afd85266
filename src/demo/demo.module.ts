import { Module } from '@nestjs/common';
import { CatalogModule } from '../catalog/catalog.module';
import { DemoController } from './demo.controller';
import { DemoPage } from './demo-page';
import { DemoRepository } from './demo.repository';
import { DemoService } from './demo.service';

/**
 * The demo page and its endpoints. The api imports it only when DEMO_MODE=true (see
 * optionalApiModules), so a production api has none of these routes.
 */
@Module({
  imports: [CatalogModule],
  controllers: [DemoController],
  providers: [DemoRepository, DemoService, DemoPage],
})
export class DemoModule {}
