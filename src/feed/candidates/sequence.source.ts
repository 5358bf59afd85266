import { Injectable } from '@nestjs/common';
import { SequenceIndexService } from '../../sequence/sequence-index.service';
import { CandidateContext, CandidateSource } from './candidate-source';

/**
 * Videos the sequence model expects next: nearest, by inner product, to the vector it
 * encodes from the user's recent engagement in order (so the last event already counts).
 */
@Injectable()
export class SequenceSource implements CandidateSource {
  readonly name = 'sequence';
  readonly defaultShare = 0.2;

  constructor(private readonly index: SequenceIndexService) {}

  fetch(ctx: CandidateContext): Int32Array {
    const vector = ctx.sequence?.userVector();
    if (!vector) return new Int32Array(0);
    return this.index.searchOrdinals(vector, ctx.limit) ?? new Int32Array(0);
  }
}
