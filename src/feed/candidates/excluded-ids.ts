import { videoIdHash } from '../../catalog/video-id-hash';

/**
 * The ids a user must not be shown (watched, served this session, the client's), keyed by
 * videoIdHash. A candidate is tested by the hash the catalog keeps for its ordinal, so the
 * common case (not excluded) reads no video object; only an equal hash compares ids.
 */
export class ExcludedIds {
  private readonly byHash = new Map<number, string>();
  /** Excluded ids whose hash another excluded id already has (rare: compared on an equal hash). */
  private collided: Set<string> | null = null;

  constructor(...lists: Iterable<string>[]) {
    for (const ids of lists) for (const id of ids) this.add(id);
  }

  add(id: string): void {
    const hash = videoIdHash(id);
    const held = this.byHash.get(hash);
    if (held === undefined) this.byHash.set(hash, id);
    else if (held !== id) (this.collided ??= new Set()).add(id);
  }

  /** True if `video`, whose id hashes to `hash`, is excluded; its id is read only on an equal hash. */
  excludes(hash: number, video: { readonly id: string }): boolean {
    const held = this.byHash.get(hash);
    if (held === undefined) return false;
    return video.id === held || (this.collided !== null && this.collided.has(video.id));
  }
}
