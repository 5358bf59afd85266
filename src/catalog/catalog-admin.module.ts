import { Module } from '@nestjs/common';
import { AdminVideosController } from './admin-videos.controller';
import { CatalogAdminService } from './catalog-admin.service';
import { CatalogModule } from './catalog.module';

/** Admin catalog endpoints (api process only). */
@Module({
  imports: [CatalogModule],
  controllers: [AdminVideosController],
  providers: [CatalogAdminService],
})
export class CatalogAdminModule {}
