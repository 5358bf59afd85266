import { Injectable } from '@nestjs/common';
import { CatalogSnapshotService } from '../../catalog/catalog-snapshot.service';
import { CatalogListsService } from '../data/catalog-lists.service';
import { CandidateContext, CandidateSource } from './candidate-source';
import { POPULAR_DEFAULT_SHARE, POPULAR_SOURCE } from './popularity-blend';

/** Long-horizon popularity: the most engaged-with videos of all time. */
@Injectable()
export class PopularSource implements CandidateSource {
  readonly name = POPULAR_SOURCE;
  readonly defaultShare = POPULAR_DEFAULT_SHARE;

  constructor(
    private readonly lists: CatalogListsService,
    private readonly catalog: CatalogSnapshotService,
  ) {}

  fetch(ctx: CandidateContext): Int32Array {
    return this.catalog.ordinalsOf(this.lists.current.popular).subarray(0, ctx.limit);
  }
}
