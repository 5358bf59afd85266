import { Injectable } from '@nestjs/common';
import { AppConfig } from '../../config/app-config';
import { CatalogVideo } from '../../features/catalog-video';
import { VideoStats } from '../../features/video-stats';
import { LazyScoreOrder, orderByScore } from '../support/score-order';

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

export const EXPLORATION_SOURCE = 'exploration';

/**
 * How many candidates per page slot the score order is worked out for before the passes
 * start; the rest of the order only if the caps reject that many.
 */
const ORDER_PREFIX_PER_SLOT = 4;
/**
 * Above this share of recent pages that read past the prefix, the whole order is sorted
 * at once: a selection then the rest costs ~1.4 times a plain sort, the prefix alone ~0.6
 * (score-order-bench, 500 candidates). Where it lands depends on the catalog: with few
 * categories the category cap sends most pages' first pass through every candidate.
 */
const WHOLE_ORDER_ABOVE = 0.5;
/** Weight of the latest page in that share (an exponential moving average over ~50 pages). */
const PAST_PREFIX_WEIGHT = 0.02;

/** How much of the score order to work out first, from how far recent pages read it (see WHOLE_ORDER_ABOVE). */
export class OrderPrefix {
  /** Recent pages' share that read past the prefix. */
  private pastPrefix = 0;

  /** Places to order first for `n` candidates and a page of `limit`: all `n` where most recent pages read past the prefix. */
  size(n: number, limit: number): number {
    return this.pastPrefix > WHOLE_ORDER_ABOVE ? n : Math.min(n, limit * ORDER_PREFIX_PER_SLOT);
  }

  /** A page read `placesRead` places of the order. */
  record(placesRead: number, limit: number): void {
    this.pastPrefix += PAST_PREFIX_WEIGHT * ((placesRead > limit * ORDER_PREFIX_PER_SLOT ? 1 : 0) - this.pastPrefix);
  }
}

/** How the reranker placed a candidate, or why it left it out. */
export type RerankDecision =
  | 'exploration_slot'
  | 'ranked'
  | 'ranked_category_cap_relaxed'
  | 'ranked_caps_relaxed'
  | 'creator_cap'
  | 'category_cap'
  | 'below_cut';

/** The main passes, each relaxing one more cap, with what a pick in each is called. */
const PASSES: { checkCreator: boolean; checkCategory: boolean; decision: RerankDecision }[] = [
  { checkCreator: true, checkCategory: true, decision: 'ranked' },
  { checkCreator: true, checkCategory: false, decision: 'ranked_category_cap_relaxed' },
  { checkCreator: false, checkCategory: false, decision: 'ranked_caps_relaxed' },
];

/** Filled by `rerank()` when passed (explain requests only): index-aligned with the candidates. */
export class RerankTrace {
  /** Each candidate's place in plain score order (0 = best). */
  scoreRank = new Int32Array(0);
  decisions: RerankDecision[] = [];
}

/**
 * Turns scored candidates into a page: the best items, at most `maxPerCreator` per
 * creator and a bounded share per category, plus exploration slots for new videos
 * under their impression cap spread through the page. Constraints are relaxed, in
 * that order, only when the candidates cannot fill the page otherwise.
 */
@Injectable()
export class Reranker {
  readonly orderPrefix = new OrderPrefix();

  constructor(private readonly config: AppConfig) {}

  options(limit: number): RerankOptions {
    return {
      limit,
      maxPerCreator: this.config.FEED_MAX_PER_CREATOR,
      maxPerCategory: Math.max(1, Math.ceil(limit * this.config.FEED_MAX_CATEGORY_SHARE)),
      explorationSlots: Math.round(limit * this.config.FEED_EXPLORATION_SHARE),
      explorationImpressionCap: this.config.FEED_EXPLORATION_IMPRESSION_CAP,
    };
  }

  /** Indices into `input.videos`, in page order. A `trace` records every decision (for explain). */
  rerank(input: RerankInput, opts: RerankOptions, trace?: RerankTrace): number[] {
    const n = input.videos.length;
    const { scores, videos, sources, stats } = input;
    const order = new LazyScoreOrder(scores, n, this.orderPrefix.size(n, opts.limit));
    if (trace) this.startTrace(trace, order, n);
    const creators: ArrayLike<number | string> = input.groups?.creators ?? videos.map((v) => v.creatorId);
    const categories: ArrayLike<number | string> = input.groups?.categories ?? videos.map((v) => v.category);

    const picked = new Uint8Array(n);
    const perCreator = new Map<number | string, number>();
    const perCategory = new Map<number | string, number>();
    const capHit = (i: number): RerankDecision =>
      (perCreator.get(creators[i]) ?? 0) >= opts.maxPerCreator ? 'creator_cap' : 'category_cap';
    const fits = (i: number, checkCreator: boolean, checkCategory: boolean) =>
      (!checkCreator || (perCreator.get(creators[i]) ?? 0) < opts.maxPerCreator) &&
      (!checkCategory || (perCategory.get(categories[i]) ?? 0) < opts.maxPerCategory);
    const take = (i: number, into: number[], decision: RerankDecision) => {
      if (trace) trace.decisions[i] = decision;
      picked[i] = 1;
      into.push(i);
      perCreator.set(creators[i], (perCreator.get(creators[i]) ?? 0) + 1);
      perCategory.set(categories[i], (perCategory.get(categories[i]) ?? 0) + 1);
    };

    const explore: number[] = [];
    const slots = Math.min(opts.explorationSlots, opts.limit);
    for (const i of slots > 0 ? explorationOrder(sources, scores, n) : []) {
      if (explore.length >= slots) break;
      if (stats && stats[i].impressions >= opts.explorationImpressionCap) continue;
      if (fits(i, true, true)) take(i, explore, 'exploration_slot');
      else if (trace) trace.decisions[i] = capHit(i);
    }

    const main: number[] = [];
    const need = opts.limit - explore.length;
    // How far down the order the passes read (what decides whether the prefix was enough).
    let placesRead = 0;
    for (const { checkCreator, checkCategory, decision } of PASSES) {
      if (trace) this.resetPassedOver(trace, picked);
      let k = 0;
      for (; k < n && main.length < need; k++) {
        const i = order.at(k);
        if (picked[i]) continue;
        if (fits(i, checkCreator, checkCategory)) take(i, main, decision);
        else if (trace) trace.decisions[i] = capHit(i);
      }
      placesRead = Math.max(placesRead, k);
      if (main.length >= need) break;
    }

    this.orderPrefix.record(placesRead, opts.limit);
    const page = main;
    explore.forEach((i, k) => {
      const at = Math.min(page.length, Math.floor(((k + 1) * opts.limit) / (explore.length + 1)));
      page.splice(at, 0, i);
    });
    return page;
  }

  /** A candidate a pass does not reach is below that pass's cut, whatever stopped it before. */
  private resetPassedOver(trace: RerankTrace, picked: Uint8Array): void {
    for (let i = 0; i < picked.length; i++) if (!picked[i]) trace.decisions[i] = 'below_cut';
  }

  private startTrace(trace: RerankTrace, order: LazyScoreOrder, n: number): void {
    trace.scoreRank = new Int32Array(n);
    for (let k = 0; k < n; k++) trace.scoreRank[order.at(k)] = k;
    trace.decisions = new Array<RerankDecision>(n).fill('below_cut');
  }
}

/** The exploration source's candidates among the first n, best score first (as they come in the whole score order). */
function explorationOrder(sources: readonly string[], scores: Float32Array, n: number): number[] {
  const found: number[] = [];
  for (let i = 0; i < n; i++) if (sources[i] === EXPLORATION_SOURCE) found.push(i);
  if (found.length < 2) return found;
  // `found` is in index order, so equal scores keep index order here too.
  const order = orderByScore(Float32Array.from(found, (i) => scores[i]));
  return Array.from(order, (k) => found[k]);
}
