import { EventRecord } from '../../src/importer/import-records';
import { POSITIVE_TYPES } from './leave-last-out';

/**
 * The baselines' view of the training events: each user's distinct positive videos as
 * item indices, oldest first (a video's place is its latest event), and each item's users.
 */
export class TrainingMatrix {
  readonly itemIds: string[] = [];
  readonly itemIndex = new Map<string, number>();
  /** Per user, item indices, oldest first. */
  readonly histories = new Map<string, Int32Array>();
  /** Per item, user ordinals. */
  readonly itemUsers: Int32Array[];
  /** Per user ordinal, item indices (the same lists as `histories`). */
  readonly userItems: Int32Array[] = [];

  constructor(events: readonly EventRecord[]) {
    const latest = new Map<string, Map<number, number>>();
    events.forEach((e, order) => {
      if (!POSITIVE_TYPES.has(e.type)) return;
      let item = this.itemIndex.get(e.videoId);
      if (item === undefined) {
        item = this.itemIds.length;
        this.itemIndex.set(e.videoId, item);
        this.itemIds.push(e.videoId);
      }
      let items = latest.get(e.userId);
      if (!items) latest.set(e.userId, (items = new Map()));
      items.set(item, order);
    });
    const users: number[][] = this.itemIds.map(() => []);
    for (const [userId, items] of latest) {
      const order = (a: number, b: number) => {
        const ea = events[items.get(a)!];
        const eb = events[items.get(b)!];
        return ea.occurredAt - eb.occurredAt || items.get(a)! - items.get(b)!;
      };
      const history = Int32Array.from([...items.keys()].sort(order));
      const ordinal = this.userItems.length;
      this.userItems.push(history);
      this.histories.set(userId, history);
      for (const item of history) users[item].push(ordinal);
    }
    this.itemUsers = users.map((u) => Int32Array.from(u));
  }

  get itemCount(): number {
    return this.itemIds.length;
  }
}

/** A reference recommender over a TrainingMatrix: the top `k` item ids for a user, never one of their training items. */
export interface BaselineRecommender {
  readonly name: string;
  recommend(userId: string, k: number): string[];
}

/** Indices of the `k` highest scores (ties: lower index first), skipping `exclude` and non-positive scores when `positiveOnly`. */
export function topScores(scores: Float64Array, k: number, exclude: ReadonlySet<number>, positiveOnly: boolean): number[] {
  const best: number[] = [];
  for (let i = 0; i < scores.length; i++) {
    const s = scores[i];
    if ((positiveOnly && !(s > 0)) || exclude.has(i)) continue;
    if (best.length === k && s <= scores[best[k - 1]]) continue;
    let at = best.length === k ? k - 1 : best.length;
    if (best.length < k) best.push(i);
    while (at > 0 && scores[best[at - 1]] < s) {
      best[at] = best[at - 1];
      at--;
    }
    best[at] = i;
  }
  return best;
}
