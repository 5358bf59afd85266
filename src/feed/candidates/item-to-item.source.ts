import { Injectable } from '@nestjs/common';
import { CandidateContext, CandidateSource } from './candidate-source';

/**
 * Videos engaged with close to the user's last videos by other users (co-engagement and
 * "watched next" neighbours from the last training run), weighted by how recent each of
 * the user's videos is and how the user engaged with it.
 */
@Injectable()
export class ItemToItemSource implements CandidateSource {
  readonly name = 'i2i';
  readonly defaultShare = 0.3;

  fetch(ctx: CandidateContext): Int32Array {
    if (!ctx.history || ctx.history.empty) return new Int32Array(0);
    return Int32Array.from(ctx.history.best(ctx.limit));
  }
}
