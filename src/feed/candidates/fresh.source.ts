import { Injectable } from '@nestjs/common';
import { CatalogListsService } from '../catalog-lists.service';
import { CandidateContext, CandidateSource } from './candidate-source';

/** The newest uploads. */
@Injectable()
export class FreshSource implements CandidateSource {
  readonly name = 'fresh';
  readonly share = 0.1;

  constructor(private readonly lists: CatalogListsService) {}

  fetch(ctx: CandidateContext): string[] {
    return this.lists.current.fresh.slice(0, ctx.limit);
  }
}
