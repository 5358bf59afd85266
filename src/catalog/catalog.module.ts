import { Module } from '@nestjs/common';
import { CatalogRepository } from './catalog.repository';
import { CatalogSnapshotService } from './catalog-snapshot.service';

@Module({
  providers: [CatalogRepository, CatalogSnapshotService],
  exports: [CatalogRepository, CatalogSnapshotService],
})
export class CatalogModule {}
