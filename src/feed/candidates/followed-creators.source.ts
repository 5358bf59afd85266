import { Injectable } from '@nestjs/common';
import { CatalogSnapshotService } from '../../catalog/catalog-snapshot.service';
import { CatalogListsService } from '../data/catalog-lists.service';
import { CandidateContext, CandidateSource } from './candidate-source';

/** The newest videos of creators the user follows, taken round-robin so no single creator crowds the others out. */
@Injectable()
export class FollowedCreatorsSource implements CandidateSource {
  readonly name = 'followed';
  readonly defaultShare = 0.1;

  constructor(
    private readonly lists: CatalogListsService,
    private readonly catalog: CatalogSnapshotService,
  ) {}

  fetch(ctx: CandidateContext): Int32Array {
    if (ctx.follows.size === 0) return new Int32Array(0);
    const byCreator = this.lists.current.byCreator;
    const queues: Int32Array[] = [];
    for (const creator of ctx.follows) {
      const ids = byCreator.get(creator);
      if (ids?.length) queues.push(this.catalog.ordinalsOf(ids));
    }
    const out = new Int32Array(ctx.limit);
    let n = 0;
    for (let round = 0; n < ctx.limit; round++) {
      let any = false;
      for (const q of queues) {
        if (round < q.length) {
          any = true;
          out[n++] = q[round];
          if (n === ctx.limit) break;
        }
      }
      if (!any) break;
    }
    return out.subarray(0, n);
  }
}
