import { Inject, Injectable } from '@nestjs/common';
import { FeedRanker, RANKER, RankFallbackReason, RankRequest, RankResult } from '../../ranking/ranker';

/** The picked items' scores and feature rows, copied out of the ranker's pooled buffers. */
export interface PickedScores {
  scores: Float32Array;
  features: Float32Array;
  width: number;
}

/** Feed stage 4: scores the candidates with the ranker bound to RANKER (by default the active ONNX model). */
@Injectable()
export class CandidateScorer {
  constructor(@Inject(RANKER) private readonly ranker: FeedRanker) {}

  score(request: RankRequest): Promise<{ result: RankResult; fallback: RankFallbackReason | null }> {
    return this.ranker.rank(request);
  }

  /** Copies what outlives the ranker's buffers (released after the request): the picks' scores and feature rows, in page order. */
  picked(result: RankResult, picks: readonly number[]): PickedScores {
    const width = result.width;
    const scores = new Float32Array(picks.length);
    const features = new Float32Array(picks.length * width);
    picks.forEach((i, k) => {
      scores[k] = result.scores[i];
      features.set(result.features.subarray(i * width, (i + 1) * width), k * width);
    });
    return { scores, features, width };
  }
}
