import { BaselineRecommender, TrainingMatrix } from './training-matrix';

/** Most users first (ties: first seen first); a user's own training items skipped. */
export class PopularityRecommender implements BaselineRecommender {
  readonly name = 'popularity';
  private readonly ranked: number[];

  constructor(private readonly matrix: TrainingMatrix) {
    this.ranked = matrix.itemIds.map((_, i) => i).sort((a, b) => matrix.itemUsers[b].length - matrix.itemUsers[a].length || a - b);
  }

  recommend(userId: string, k: number): string[] {
    const own = new Set(this.matrix.histories.get(userId) ?? []);
    const out: string[] = [];
    for (const item of this.ranked) {
      if (out.length === k) break;
      if (!own.has(item)) out.push(this.matrix.itemIds[item]);
    }
    return out;
  }
}
