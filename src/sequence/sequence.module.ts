import { Module } from '@nestjs/common';
import { CatalogModule } from '../catalog/catalog.module';
import { SequenceIndexService } from './sequence-index.service';
import { SequenceModelRepository } from './sequence-model.repository';

/** The sequence model: the table training writes, and the loaded encoder and item index the feed reads. */
@Module({
  imports: [CatalogModule],
  providers: [SequenceModelRepository, SequenceIndexService],
  exports: [SequenceModelRepository, SequenceIndexService],
})
export class SequenceModule {}
