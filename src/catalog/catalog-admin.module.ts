import { Module } from '@nestjs/common';
import { AdminVideosController } from './admin-videos.controller';
import { CatalogAdminRepository } from './catalog-admin.repository';
import { CatalogAdminService } from './catalog-admin.service';
import { CatalogModule } from './catalog.module';

/** Admin catalog endpoints (api process only). */
@Module({
  imports: [CatalogModule],
  controllers: [AdminVideosController],
  providers: [CatalogAdminRepository, CatalogAdminService],
})
export class CatalogAdminModule {}
