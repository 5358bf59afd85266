import { Module } from '@nestjs/common';
import { AdminInteractionsController } from './admin-interactions.controller';
import { ImporterModule } from './importer.module';

/** Api-only: the admin endpoint for historical events. */
@Module({
  imports: [ImporterModule],
  controllers: [AdminInteractionsController],
})
export class ImporterApiModule {}
