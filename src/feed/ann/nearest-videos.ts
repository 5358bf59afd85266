import { CandidateIds } from '../candidates/candidate-source';

/**
 * Nearest-neighbour search over the catalog's video embeddings, behind the `ann` candidate
 * source. The default is the HNSW index each api builds in memory (AnnIndexService); a
 * vector engine (Qdrant, Vespa, Redis vector search) takes its place by binding its own
 * class to NEAREST_VIDEOS in src/feed/feed.module.ts (and dropping AnnIndexService from
 * the providers there, so the api no longer builds the index).
 */
export interface NearestVideos {
  /**
   * The (about) k active videos most similar to `embedding` (cosine), best first, as video
   * ids or catalog ordinals; null while no index is available (the feed reports
   * `ann_unavailable`). A rejected promise leaves the source out of that request.
   */
  nearest(embedding: number[], k: number): CandidateIds | null | Promise<CandidateIds | null>;
}

/** Injection token for the NearestVideos implementation the `ann` source queries. */
export const NEAREST_VIDEOS = Symbol('NEAREST_VIDEOS');
