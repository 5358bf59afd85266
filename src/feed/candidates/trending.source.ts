import { Injectable } from '@nestjs/common';
import { CatalogSnapshotService } from '../../catalog/catalog-snapshot.service';
import { CatalogListsService } from '../data/catalog-lists.service';
import { TrendingCacheService } from '../data/trending-cache.service';
import { CandidateContext, CandidateSource } from './candidate-source';

/** What is trending now (event pipeline's decayed counters); the popularity blend when nothing trends yet. */
@Injectable()
export class TrendingSource implements CandidateSource {
  readonly name = 'trending';
  readonly defaultShare = 0.2;

  constructor(
    private readonly trending: TrendingCacheService,
    private readonly lists: CatalogListsService,
    private readonly catalog: CatalogSnapshotService,
  ) {}

  fetch(ctx: CandidateContext): Int32Array {
    const ids = this.trending.ids.length > 0 ? this.trending.ids : this.lists.fallback.ids;
    return this.catalog.ordinalsOf(ids).subarray(0, ctx.limit);
  }
}
