import { Module } from '@nestjs/common';
import { ImportRepository } from './import.repository';
import { ImporterService } from './importer.service';

/** Bulk import of catalogs and histories (the import and evaluate commands, the admin history endpoint). */
@Module({
  providers: [ImportRepository, ImporterService],
  exports: [ImporterService],
})
export class ImporterModule {}
