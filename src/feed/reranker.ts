import { Injectable } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { CatalogVideo } from '../features/catalog-video';
import { VideoStats } from '../features/video-stats';
import { orderByScore } from './score-order';

export interface RerankInput {
  videos: CatalogVideo[];
  sources: string[];
  /** Index-aligned with `videos` (may be longer). */
  scores: Float32Array;
  /** Index-aligned live stats, or null when they could not be read. */
  stats: VideoStats[] | null;
  /**
   * Index-aligned creator and category as interned numbers (from VideoColumns), so the
   * caps count without reading each video object; without them, the ids are read.
   */
  groups?: { creators: ArrayLike<number>; categories: ArrayLike<number> };
}

export interface RerankOptions {
  limit: number;
  maxPerCreator: number;
  maxPerCategory: number;
  explorationSlots: number;
  explorationImpressionCap: number;
}

/** A page may hold at most this share of one category while other categories are available. */
const MAX_CATEGORY_SHARE = 0.35;
export const EXPLORATION_SOURCE = 'exploration';

/**
 * Turns scored candidates into a page: the best items, at most `maxPerCreator` per
 * creator and a bounded share per category, plus exploration slots for new videos
 * under their impression cap spread through the page. Constraints are relaxed, in
 * that order, only when the candidates cannot fill the page otherwise.
 */
@Injectable()
export class Reranker {
  constructor(private readonly config: AppConfig) {}

  options(limit: number): RerankOptions {
    return {
      limit,
      maxPerCreator: this.config.FEED_MAX_PER_CREATOR,
      maxPerCategory: Math.max(1, Math.ceil(limit * MAX_CATEGORY_SHARE)),
      explorationSlots: Math.round(limit * this.config.FEED_EXPLORATION_SHARE),
      explorationImpressionCap: this.config.FEED_EXPLORATION_IMPRESSION_CAP,
    };
  }

  /** Indices into `input.videos`, in page order. */
  rerank(input: RerankInput, opts: RerankOptions): number[] {
    const n = input.videos.length;
    const { scores, videos, sources, stats } = input;
    const order = orderByScore(scores, n);
    const creators: ArrayLike<number | string> = input.groups?.creators ?? videos.map((v) => v.creatorId);
    const categories: ArrayLike<number | string> = input.groups?.categories ?? videos.map((v) => v.category);

    const picked = new Uint8Array(n);
    const perCreator = new Map<number | string, number>();
    const perCategory = new Map<number | string, number>();
    const fits = (i: number, checkCreator: boolean, checkCategory: boolean) =>
      (!checkCreator || (perCreator.get(creators[i]) ?? 0) < opts.maxPerCreator) &&
      (!checkCategory || (perCategory.get(categories[i]) ?? 0) < opts.maxPerCategory);
    const take = (i: number, into: number[]) => {
      picked[i] = 1;
      into.push(i);
      perCreator.set(creators[i], (perCreator.get(creators[i]) ?? 0) + 1);
      perCategory.set(categories[i], (perCategory.get(categories[i]) ?? 0) + 1);
    };

    const explore: number[] = [];
    const slots = Math.min(opts.explorationSlots, opts.limit);
    for (let k = 0; k < n && explore.length < slots; k++) {
      const i = order[k];
      if (sources[i] !== EXPLORATION_SOURCE) continue;
      if (stats && stats[i].impressions >= opts.explorationImpressionCap) continue;
      if (fits(i, true, true)) take(i, explore);
    }

    const main: number[] = [];
    const need = opts.limit - explore.length;
    for (const [checkCreator, checkCategory] of [
      [true, true],
      [true, false],
      [false, false],
    ]) {
      for (let k = 0; k < n && main.length < need; k++) {
        const i = order[k];
        if (!picked[i] && fits(i, checkCreator, checkCategory)) take(i, main);
      }
      if (main.length >= need) break;
    }

    const page = main;
    explore.forEach((i, k) => {
      const at = Math.min(page.length, Math.floor(((k + 1) * opts.limit) / (explore.length + 1)));
      page.splice(at, 0, i);
    });
    return page;
  }
}
