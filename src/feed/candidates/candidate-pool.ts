import { CatalogOrdinals } from '../../catalog/catalog-snapshot.service';
import { CatalogVideo } from '../../features/catalog-video';
import { SourceResult } from './candidate-gatherer';
import { CandidateIds } from './candidate-source';
import { ExcludedIds } from './excluded-ids';
import { OrdinalSet } from './ordinal-set';

/** What the pool reads of the catalog. */
export type PoolCatalog = Pick<CatalogOrdinals, 'findOrdinal' | 'videoAt' | 'isActive' | 'activeCreatedAt' | 'idHashAt' | 'touch'>;

/** What the user must not be shown. */
export interface CandidateExclusions {
  /** Videos the user already watched. */
  seen: Iterable<string>;
  /** Videos already served in this feed session. */
  served: Iterable<string>;
  /** The client's `exclude` ids. */
  exclude: Iterable<string>;
  /** Creators the user blocked. */
  blockedCreators: ReadonlySet<string>;
  /** Videos dated after this (epoch ms: scheduled releases) are not served yet. */
  publishedBy: number;
}

/**
 * The candidates of one request: each video offered once, kept only if it passes every
 * filter (known and not taken down, published, not watched, not served this session, not
 * excluded by the client, creator not blocked), up to `max`.
 *
 * It works on catalog ordinals: an offered ordinal is checked against a small integer set
 * and the catalog's dense columns (active videos' upload times, id hashes), touched for all
 * the sources' ordinals in one pass first; the video object is read only to check a blocked
 * creator or to confirm an equal hash (read through the objects, the upload time was a
 * cache miss per candidate: ~5% of a feed's CPU). The excluded ids (watched, served, client's) are kept by hash (ExcludedIds)
 * and tested against the hash the catalog keeps per ordinal: turning each into an ordinal
 * cost a cache miss apiece in the catalog's 100k-entry id map (~1.2 ms per feed for a user
 * with 2,000 watched videos), and testing each offered video's id string read its object
 * and its id, two cache misses per candidate (~0.1 ms per feed).
 */
export class CandidatePool {
  readonly videos: CatalogVideo[] = [];
  /** Catalog ordinal of each kept candidate. */
  readonly ordinals: number[] = [];
  readonly sources: string[] = [];
  /** Position of each kept candidate in the list it was offered from (used by the degraded walk). */
  readonly positions: number[] = [];
  private readonly offered: OrdinalSet;
  private readonly excludedIds: ExcludedIds;
  private readonly blockedCreators: ReadonlySet<string>;
  private readonly publishedBy: number;

  constructor(
    private readonly catalog: PoolCatalog,
    exclusions: CandidateExclusions,
    readonly max: number,
  ) {
    this.excludedIds = new ExcludedIds(exclusions.seen, exclusions.served, exclusions.exclude);
    this.blockedCreators = exclusions.blockedCreators;
    this.publishedBy = exclusions.publishedBy;
    // Sources are asked for more than `max` (filters drop some): room for twice that many offers before the set grows.
    this.offered = new OrdinalSet(max * 2);
  }

  get size(): number {
    return this.videos.length;
  }

  get full(): boolean {
    return this.videos.length >= this.max;
  }

  /** Offers the video at a catalog ordinal; true if it was kept. */
  offer(ordinal: number, source: string, position = 0): boolean {
    if (this.full || !(ordinal >= 0) || !this.offered.add(ordinal)) return false;
    // NaN (taken down, or not in the catalog) is never <=.
    if (!(this.catalog.activeCreatedAt(ordinal) <= this.publishedBy)) return false;
    const video = this.catalog.videoAt(ordinal)!;
    if (this.excludedIds.excludes(this.catalog.idHashAt(ordinal), video)) return false;
    if (this.blockedCreators.size > 0 && this.blockedCreators.has(video.creatorId)) return false;
    this.videos.push(video);
    this.ordinals.push(ordinal);
    this.sources.push(source);
    this.positions.push(position);
    return true;
  }

  /** Offers a video by id (ids this process never saw are unknown to the catalog: dropped). */
  offerId(id: string, source: string, position = 0): boolean {
    const ordinal = this.catalog.findOrdinal(id);
    return ordinal >= 0 && this.offer(ordinal, source, position);
  }

  /** Takes from every source in turn (1st of each, 2nd of each, ...) so a cut at `max` is fair to all. */
  offerRoundRobin(results: SourceResult[]): void {
    // The sources' ordinals are scattered over the catalog's columns: fetched in one pass, not one offer at a time.
    for (const r of results) if (r.ids instanceof Int32Array) this.catalog.touch(r.ids);
    const longest = results.reduce((m, r) => Math.max(m, r.ids.length), 0);
    for (let i = 0; i < longest && !this.full; i++) {
      for (const r of results) if (i < r.ids.length) this.offerAt(r.ids, i, r.source);
    }
  }

  /** Tops up from a fallback list (one source, or each entry's own), looking at no more than `scanMax` of its entries. */
  fill(ids: CandidateIds, source: string | readonly string[], scanMax = ids.length, start = 0): void {
    const end = Math.min(ids.length, start + scanMax);
    for (let i = start; i < end && !this.full; i++) this.offerAt(ids, i, typeof source === 'string' ? source : source[i]);
  }

  private offerAt(ids: CandidateIds, i: number, source: string): void {
    const id = ids[i];
    if (typeof id === 'number') this.offer(id, source, i);
    else this.offerId(id, source, i);
  }
}
