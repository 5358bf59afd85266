import { dot, Rng } from '../../seed/random';
import { SeedUser, SeedVideo } from '../../seed/world';
import { EngagementOracle } from './engagement-oracle';

/** A recommender the real feed is compared with: picks a page for a user, never repeating what they have seen. */
export interface BaselineRecommender {
  readonly name: string;
  page(user: SeedUser, isSeen: (videoId: string) => boolean, size: number, rng: Rng): SeedVideo[];
}

/** Uniformly random unseen videos. */
export class RandomBaseline implements BaselineRecommender {
  readonly name = 'random';

  constructor(private readonly videos: SeedVideo[]) {}

  page(_user: SeedUser, isSeen: (videoId: string) => boolean, size: number, rng: Rng): SeedVideo[] {
    const picked = new Map<string, SeedVideo>();
    for (let attempts = 0; picked.size < size && attempts < size * 20; attempts++) {
      const v = this.videos[rng.int(this.videos.length)];
      if (!isSeen(v.id)) picked.set(v.id, v);
    }
    // Most of the catalog seen: scan from a random start for what is left.
    const start = rng.int(this.videos.length);
    for (let i = 0; picked.size < size && i < this.videos.length; i++) {
      const v = this.videos[(start + i) % this.videos.length];
      if (!isSeen(v.id)) picked.set(v.id, v);
    }
    return [...picked.values()];
  }
}

/** The most engaged-with videos so far (likes + completes), the same list for everyone. */
export class PopularityBaseline implements BaselineRecommender {
  readonly name = 'popularity';
  private readonly counts = new Map<string, number>();
  private ranked: SeedVideo[] | null = null;

  constructor(private readonly videos: SeedVideo[]) {}

  /** Records engagement the system has seen (the seeded history, then the simulated feed's). */
  record(videoId: string, engagements: number): void {
    if (engagements === 0) return;
    this.counts.set(videoId, (this.counts.get(videoId) ?? 0) + engagements);
    this.ranked = null;
  }

  page(_user: SeedUser, isSeen: (videoId: string) => boolean, size: number): SeedVideo[] {
    this.ranked ??= [...this.videos].sort((a, b) => (this.counts.get(b.id) ?? 0) - (this.counts.get(a.id) ?? 0) || a.id.localeCompare(b.id));
    const out: SeedVideo[] = [];
    for (const v of this.ranked) {
      if (out.length === size) break;
      if (!isSeen(v.id)) out.push(v);
    }
    return out;
  }
}

const IDEAL_SHORTLIST = 60;

/**
 * The ceiling: knows the hidden taste. Shortlists the unseen videos closest to it, then
 * orders them by how likely the user is to engage. Shows how much is left to find as
 * users watch their favourites.
 */
export class IdealBaseline implements BaselineRecommender {
  readonly name = 'ideal';

  constructor(
    private readonly videos: SeedVideo[],
    private readonly oracle: EngagementOracle,
  ) {}

  page(user: SeedUser, isSeen: (videoId: string) => boolean, size: number): SeedVideo[] {
    const shortlist: { video: SeedVideo; affinity: number }[] = [];
    for (const video of this.videos) {
      if (isSeen(video.id)) continue;
      shortlist.push({ video, affinity: dot(user.taste, video.latent) });
    }
    shortlist.sort((a, b) => b.affinity - a.affinity);
    return shortlist
      .slice(0, IDEAL_SHORTLIST)
      .map(({ video }) => ({ video, p: this.oracle.engageProbability(user, video) }))
      .sort((a, b) => b.p - a.p)
      .slice(0, size)
      .map(({ video }) => video);
  }
}
