import { CandidateExclusions, CandidatePool, PoolCatalog } from '../candidates/candidate-pool';
import { SourceResult } from '../candidates/candidate-gatherer';

/** Why a candidate a source found did not reach the ranker. */
export type PoolDropReason = 'unknown' | 'taken_down' | 'seen' | 'served' | 'excluded' | 'blocked' | 'not_yet_published' | 'candidate_limit';

/**
 * A CandidatePool that also records, for explain requests, every source that offered
 * each video and why each one it did not keep was dropped. The plain pool serves every
 * other request, so the feed's hot path pays nothing for this.
 */
export class TracedCandidatePool extends CandidatePool {
  /** Every source that offered a catalog ordinal, first (credited) one first. */
  readonly foundBy = new Map<number, string[]>();
  readonly dropped = new Map<number, PoolDropReason>();
  /** Ids a source returned that the catalog does not know, with the sources. */
  readonly unknown = new Map<string, string[]>();
  private readonly reasons = new Map<number, PoolDropReason>();

  constructor(
    private readonly poolCatalog: PoolCatalog,
    private readonly exclusions: CandidateExclusions,
    max: number,
  ) {
    super(poolCatalog, exclusions, max);
    // Reverse order so the first reason wins: watched over served over client-excluded.
    for (const [ids, reason] of [
      [exclusions.exclude, 'excluded'],
      [exclusions.served, 'served'],
      [exclusions.seen, 'seen'],
    ] as const) {
      for (const id of ids) {
        const ordinal = poolCatalog.findOrdinal(id);
        if (ordinal >= 0) this.reasons.set(ordinal, reason);
      }
    }
  }

  override offer(ordinal: number, source: string, position = 0): boolean {
    const sources = this.foundBy.get(ordinal);
    if (sources) {
      if (!sources.includes(source)) sources.push(source);
      return super.offer(ordinal, source, position);
    }
    this.foundBy.set(ordinal, [source]);
    const reason = this.full ? 'candidate_limit' : this.dropReason(ordinal);
    const kept = super.offer(ordinal, source, position);
    if (!kept) this.dropped.set(ordinal, reason ?? 'candidate_limit');
    return kept;
  }

  override offerId(id: string, source: string, position = 0): boolean {
    if (this.poolCatalog.findOrdinal(id) < 0) this.noteUnknown(id, source);
    return super.offerId(id, source, position);
  }

  /** Records what the sources found that was never offered because the pool filled first. */
  noteUnoffered(results: readonly SourceResult[]): void {
    for (const { source, ids } of results) {
      for (let i = 0; i < ids.length; i++) {
        const id = ids[i];
        const ordinal = typeof id === 'number' ? id : this.poolCatalog.findOrdinal(id);
        if (ordinal < 0) {
          this.noteUnknown(id as string, source);
          continue;
        }
        const sources = this.foundBy.get(ordinal);
        if (sources) {
          if (!sources.includes(source)) sources.push(source);
        } else {
          this.foundBy.set(ordinal, [source]);
          this.dropped.set(ordinal, this.dropReason(ordinal) ?? 'candidate_limit');
        }
      }
    }
  }

  private dropReason(ordinal: number): PoolDropReason | null {
    const excluded = this.reasons.get(ordinal);
    if (excluded) return excluded;
    if (!this.poolCatalog.isActive(ordinal)) return this.poolCatalog.videoAt(ordinal) ? 'taken_down' : 'unknown';
    const video = this.poolCatalog.videoAt(ordinal)!;
    if (this.exclusions.blockedCreators.has(video.creatorId)) return 'blocked';
    return video.createdAt > this.exclusions.publishedBy ? 'not_yet_published' : null;
  }

  private noteUnknown(id: string, source: string): void {
    const sources = this.unknown.get(id);
    if (!sources) this.unknown.set(id, [source]);
    else if (!sources.includes(source)) sources.push(source);
  }
}
