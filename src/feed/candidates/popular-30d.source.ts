import { Injectable } from '@nestjs/common';
import { CatalogSnapshotService } from '../../catalog/catalog-snapshot.service';
import { CatalogListsService } from '../data/catalog-lists.service';
import { CandidateContext, CandidateSource } from './candidate-source';
import { POPULAR_30D_SOURCE, POPULAR_DEFAULT_SHARE } from './popularity-blend';

/** Popularity decayed over 30 days (the event pipeline's 30-day trend window): what is popular these weeks. */
@Injectable()
export class Popular30dSource implements CandidateSource {
  readonly name = POPULAR_30D_SOURCE;
  readonly defaultShare = POPULAR_DEFAULT_SHARE;

  constructor(
    private readonly lists: CatalogListsService,
    private readonly catalog: CatalogSnapshotService,
  ) {}

  fetch(ctx: CandidateContext): Int32Array {
    return this.catalog.ordinalsOf(this.lists.current.popular30d).subarray(0, ctx.limit);
  }
}
