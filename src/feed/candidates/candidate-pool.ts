import { CatalogVideo } from '../../features/catalog-video';
import { SourceResult } from './candidate-gatherer';

/** What the user must not be shown. */
export interface CandidateExclusions {
  /** Videos the user already watched. */
  seen: ReadonlySet<string>;
  /** Videos already served in this feed session. */
  served: ReadonlySet<string>;
  /** The client's `exclude` ids. */
  exclude: ReadonlySet<string>;
  /** Creators the user blocked. */
  blockedCreators: ReadonlySet<string>;
}

export interface CatalogLookup {
  get(id: string): CatalogVideo | undefined;
}

/**
 * The candidates of one request: each id offered once, kept only if it passes every
 * filter (known and not taken down, not watched, not served this session, not
 * excluded by the client, creator not blocked), up to `max`.
 */
export class CandidatePool {
  readonly videos: CatalogVideo[] = [];
  readonly sources: string[] = [];
  /** Position of each kept candidate in the list it was offered from (used by the degraded walk). */
  readonly positions: number[] = [];
  private readonly offered = new Set<string>();

  constructor(
    private readonly catalog: CatalogLookup,
    private readonly exclusions: CandidateExclusions,
    readonly max: number,
  ) {}

  get size(): number {
    return this.videos.length;
  }

  get full(): boolean {
    return this.videos.length >= this.max;
  }

  offer(id: string, source: string, position = 0): boolean {
    if (this.full || this.offered.has(id)) return false;
    this.offered.add(id);
    const video = this.catalog.get(id);
    if (!video || !video.active) return false;
    const x = this.exclusions;
    if (x.seen.has(id) || x.served.has(id) || x.exclude.has(id) || x.blockedCreators.has(video.creatorId)) return false;
    this.videos.push(video);
    this.sources.push(source);
    this.positions.push(position);
    return true;
  }

  /** Takes from every source in turn (1st of each, 2nd of each, ...) so a cut at `max` is fair to all. */
  offerRoundRobin(results: SourceResult[]): void {
    const longest = results.reduce((m, r) => Math.max(m, r.ids.length), 0);
    for (let i = 0; i < longest && !this.full; i++) {
      for (const r of results) if (i < r.ids.length) this.offer(r.ids[i], r.source, i);
    }
  }

  /** Tops up from a fallback list, looking at no more than `scanMax` of its ids. */
  fill(ids: readonly string[], source: string, scanMax = ids.length, start = 0): void {
    const end = Math.min(ids.length, start + scanMax);
    for (let i = start; i < end && !this.full; i++) this.offer(ids[i], source, i);
  }
}
