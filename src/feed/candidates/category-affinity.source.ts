import { Injectable } from '@nestjs/common';
import { CatalogSnapshotService } from '../../catalog/catalog-snapshot.service';
import { AppConfig } from '../../config/app-config';
import { CatalogListsService } from '../data/catalog-lists.service';
import { CandidateContext, CandidateSource } from './candidate-source';

/** The best videos of the user's top FEED_TOP_CATEGORIES categories, in proportion to the affinity for each. */
@Injectable()
export class CategoryAffinitySource implements CandidateSource {
  readonly name = 'category';
  readonly defaultShare = 0.15;

  constructor(
    private readonly lists: CatalogListsService,
    private readonly catalog: CatalogSnapshotService,
    private readonly config: AppConfig,
  ) {}

  fetch(ctx: CandidateContext): Int32Array {
    const top = [...ctx.user.categoryAffinity]
      .filter(([, v]) => v > 0)
      .sort((a, b) => b[1] - a[1])
      .slice(0, this.config.FEED_TOP_CATEGORIES);
    if (top.length === 0) return new Int32Array(0);
    const total = top.reduce((s, [, v]) => s + v, 0);
    const byCategory = this.lists.current.byCategory;
    const out = new Int32Array(ctx.limit);
    let n = 0;
    for (const [category, affinity] of top) {
      const want = Math.ceil((ctx.limit * affinity) / total);
      const list = byCategory.get(category);
      if (!list) continue;
      const ordinals = this.catalog.ordinalsOf(list);
      for (let i = 0; i < ordinals.length && i < want && n < ctx.limit; i++) out[n++] = ordinals[i];
    }
    return out.subarray(0, n);
  }
}
