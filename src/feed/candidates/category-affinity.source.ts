import { Injectable } from '@nestjs/common';
import { CatalogListsService } from '../catalog-lists.service';
import { CandidateContext, CandidateSource } from './candidate-source';

const TOP_CATEGORIES = 3;

/** The best videos of the user's favourite categories, in proportion to the affinity for each. */
@Injectable()
export class CategoryAffinitySource implements CandidateSource {
  readonly name = 'category';
  readonly share = 0.15;

  constructor(private readonly lists: CatalogListsService) {}

  fetch(ctx: CandidateContext): string[] {
    const top = Object.entries(ctx.user.categoryAffinity)
      .filter(([, v]) => v > 0)
      .sort((a, b) => b[1] - a[1])
      .slice(0, TOP_CATEGORIES);
    if (top.length === 0) return [];
    const total = top.reduce((s, [, v]) => s + v, 0);
    const byCategory = this.lists.current.byCategory;
    const out: string[] = [];
    for (const [category, affinity] of top) {
      const want = Math.ceil((ctx.limit * affinity) / total);
      const ids = byCategory.get(category);
      if (ids) for (let i = 0; i < ids.length && i < want && out.length < ctx.limit; i++) out.push(ids[i]);
    }
    return out;
  }
}
