import { Injectable } from '@nestjs/common';
import { AnnIndexService } from '../ann/ann-index.service';
import { CandidateContext, CandidateSource, SourceUnavailableError } from './candidate-source';

/** Videos nearest to the user's taste embedding (personalised retrieval over the whole catalog). */
@Injectable()
export class AnnSource implements CandidateSource {
  readonly name = 'ann';
  readonly defaultShare = 0.3;

  constructor(private readonly index: AnnIndexService) {}

  fetch(ctx: CandidateContext): Int32Array {
    if (!ctx.userHasEmbedding) return new Int32Array(0);
    const ids = this.index.searchOrdinals(ctx.user.embedding, ctx.limit);
    if (ids === null) throw new SourceUnavailableError('ann_unavailable', 'the nearest-neighbour index is not built yet');
    return ids;
  }
}
