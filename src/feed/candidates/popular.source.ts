import { Injectable } from '@nestjs/common';
import { CatalogSnapshotService } from '../../catalog/catalog-snapshot.service';
import { CatalogListsService } from '../data/catalog-lists.service';
import { CandidateContext, CandidateSource } from './candidate-source';

/** Long-horizon popularity: the most engaged-with videos of all time (the cold-start floor). */
@Injectable()
export class PopularSource implements CandidateSource {
  readonly name = 'popular';
  readonly defaultShare = 0.1;

  constructor(
    private readonly lists: CatalogListsService,
    private readonly catalog: CatalogSnapshotService,
  ) {}

  fetch(ctx: CandidateContext): Int32Array {
    return this.catalog.ordinalsOf(this.lists.current.popular).subarray(0, ctx.limit);
  }
}
