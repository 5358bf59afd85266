import { EventLog } from '../data/training-log';
import { AlsOptions, AlsResult, collectEngagements, learnItemEmbeddings } from './implicit-als';

/** What every fit of one training run shares: the log and the fixed parts of the problem. */
export interface EmbeddingFitInput {
  events: EventLog;
  users: number;
  videos: number;
  /** Content embedding per video (pinned), or null (learned). */
  anchors: (Float32Array | null)[];
  priors: (Float32Array | null)[];
  options: AlsOptions;
}

/** Item embeddings that take effect at `at`: learned on the events in [windowFrom, at) only. */
export interface EmbeddingRefresh {
  at: number;
  learned: Map<number, Float32Array>;
  anchored: number;
  seconds: number;
}

/** Implicit ALS on the events in [from, to). */
export function fitItemEmbeddings(input: EmbeddingFitInput, from: number, to: number): Promise<AlsResult> {
  return learnItemEmbeddings(collectEngagements(input.events, input.users, input.videos, from, to), input.anchors, input.options, input.priors);
}

/** `count` points splitting (from, to] evenly, the last one `to`. */
export function refreshPoints(from: number, to: number, count: number): number[] {
  if (!Number.isInteger(count) || count < 1) throw new RangeError(`count must be a positive integer, got ${count}`);
  return Array.from({ length: count }, (_, k) => (k === count - 1 ? to : from + ((k + 1) * (to - from)) / count));
}

/**
 * Item embeddings as serving would have had them over the window, where each retrain
 * writes new vectors: one ALS fit per point, each on the events before it only. Rows
 * served after a point use its vectors, so no row's features encode its own outcome or
 * anything later (a single fit over the whole training part would: a video's vector
 * would be learned from the very engagement its rows are labelled with).
 */
export async function fitEmbeddingRefreshes(input: EmbeddingFitInput, windowFrom: number, points: number[]): Promise<EmbeddingRefresh[]> {
  const refreshes: EmbeddingRefresh[] = [];
  for (const at of points) {
    const fit = await fitItemEmbeddings(input, windowFrom, at);
    refreshes.push({ at, learned: fit.learned, anchored: fit.anchored, seconds: fit.seconds });
  }
  return refreshes;
}
