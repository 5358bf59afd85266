import { Injectable } from '@nestjs/common';
import { CatalogListsService } from '../catalog-lists.service';
import { CandidateContext, CandidateSource } from './candidate-source';

/** The newest videos of creators the user follows, taken round-robin so no single creator crowds the others out. */
@Injectable()
export class FollowedCreatorsSource implements CandidateSource {
  readonly name = 'followed';
  readonly share = 0.1;

  constructor(private readonly lists: CatalogListsService) {}

  fetch(ctx: CandidateContext): string[] {
    if (ctx.follows.size === 0) return [];
    const byCreator = this.lists.current.byCreator;
    const queues: string[][] = [];
    for (const creator of ctx.follows) {
      const ids = byCreator.get(creator);
      if (ids?.length) queues.push(ids);
    }
    const out: string[] = [];
    for (let round = 0; out.length < ctx.limit; round++) {
      let any = false;
      for (const q of queues) {
        if (round < q.length) {
          any = true;
          out.push(q[round]);
          if (out.length === ctx.limit) break;
        }
      }
      if (!any) break;
    }
    return out;
  }
}
