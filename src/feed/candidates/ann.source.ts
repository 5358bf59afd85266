import { Inject, Injectable } from '@nestjs/common';
import { NEAREST_VIDEOS, NearestVideos } from '../ann/nearest-videos';
import { CandidateContext, CandidateIds, CandidateSource, SourceUnavailableError } from './candidate-source';

const NONE = new Int32Array(0);

/** Videos nearest to the user's taste embedding (personalised retrieval over the whole catalog). */
@Injectable()
export class AnnSource implements CandidateSource {
  readonly name = 'ann';
  readonly defaultShare = 0.3;

  constructor(@Inject(NEAREST_VIDEOS) private readonly index: NearestVideos) {}

  fetch(ctx: CandidateContext): CandidateIds | Promise<CandidateIds> {
    if (!ctx.userHasEmbedding) return NONE;
    const found = this.index.nearest(ctx.user.embedding, ctx.limit);
    // The in-memory index answers synchronously: no promise on the feed's hot path.
    return found instanceof Promise ? found.then(orUnavailable) : orUnavailable(found);
  }
}

function orUnavailable(ids: CandidateIds | null): CandidateIds {
  if (ids === null) throw new SourceUnavailableError('ann_unavailable', 'the nearest-neighbour index is not built yet');
  return ids;
}
