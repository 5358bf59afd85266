import { Injectable } from '@nestjs/common';
import { CatalogSnapshotService } from '../../catalog/catalog-snapshot.service';
import { CatalogListsService } from '../data/catalog-lists.service';
import { CandidateContext, CandidateSource } from './candidate-source';

/** The newest uploads. */
@Injectable()
export class FreshSource implements CandidateSource {
  readonly name = 'fresh';
  readonly defaultShare = 0.1;

  constructor(
    private readonly lists: CatalogListsService,
    private readonly catalog: CatalogSnapshotService,
  ) {}

  fetch(ctx: CandidateContext): Int32Array {
    return this.catalog.ordinalsOf(this.lists.current.fresh).subarray(0, ctx.limit);
  }
}
