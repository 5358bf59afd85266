import { Rng } from '../../seed/random';
import { SeedUser, SeedVideo, simulateEngagement } from '../../seed/world';

/** A video counts as a hit for a user when their hidden taste would like it or watch it to the end this often. */
export const RELEVANCE_THRESHOLD = 0.4;
const DRAWS = 64;

/**
 * What the hidden taste thinks of a video, estimated from the world's own
 * `simulateEngagement` (fixed-seed draws, so the same pair always gets the same answer).
 */
export class EngagementOracle {
  private readonly cache = new Map<string, number>();

  /** Probability that the user likes or completes the video. */
  engageProbability(user: SeedUser, video: SeedVideo): number {
    const key = `${user.id}|${video.id}`;
    let p = this.cache.get(key);
    if (p === undefined) {
      const rng = new Rng(0x0_5eed_cafe);
      let hits = 0;
      for (let i = 0; i < DRAWS; i++) {
        const e = simulateEngagement(user, video, rng);
        if (e.like || e.complete) hits++;
      }
      p = hits / DRAWS;
      this.cache.set(key, p);
    }
    return p;
  }

  isRelevant(user: SeedUser, video: SeedVideo): boolean {
    return this.engageProbability(user, video) >= RELEVANCE_THRESHOLD;
  }
}
