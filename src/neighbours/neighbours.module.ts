import { Module } from '@nestjs/common';
import { CatalogModule } from '../catalog/catalog.module';
import { ItemNeighboursRepository } from './item-neighbours.repository';
import { NeighbourIndexService } from './neighbour-index.service';

/** Item-to-item neighbours: the table training writes, and the in-memory index the feed reads. */
@Module({
  imports: [CatalogModule],
  providers: [ItemNeighboursRepository, NeighbourIndexService],
  exports: [ItemNeighboursRepository, NeighbourIndexService],
})
export class NeighboursModule {}
