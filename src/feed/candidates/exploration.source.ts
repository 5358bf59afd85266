import { Injectable } from '@nestjs/common';
import { CatalogSnapshotService } from '../../catalog/catalog-snapshot.service';
import { CatalogListsService } from '../data/catalog-lists.service';
import { CandidateContext, CandidateSource } from './candidate-source';

/**
 * New videos that have had few impressions (under FEED_EXPLORATION_IMPRESSION_CAP),
 * least exposed first, from a random window so exposure spreads over users.
 * The reranker reserves page slots for them.
 */
@Injectable()
export class ExplorationSource implements CandidateSource {
  readonly name = 'exploration';
  readonly defaultShare = 0.1;

  constructor(
    private readonly lists: CatalogListsService,
    private readonly catalog: CatalogSnapshotService,
  ) {}

  fetch(ctx: CandidateContext): Int32Array {
    const pool = this.catalog.ordinalsOf(this.lists.current.exploration);
    if (pool.length <= ctx.limit) return pool;
    // Half from the least exposed, half from a random window of the rest.
    const head = Math.ceil(ctx.limit / 2);
    const out = new Int32Array(ctx.limit);
    out.set(pool.subarray(0, head));
    const rest = pool.length - head;
    const start = Math.floor(Math.random() * rest);
    for (let i = head; i < ctx.limit; i++) out[i] = pool[head + ((start + i - head) % rest)];
    return out;
  }
}
