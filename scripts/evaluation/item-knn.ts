import { BaselineRecommender, TrainingMatrix, topScores } from './training-matrix';

export interface ItemKnnOptions {
  /** Neighbours kept per item. */
  neighbours: number;
  /** Weight of the k-th most recent history item (k = 0 for the latest) is decay^k; 1 weighs the history evenly. */
  decay: number;
}

/**
 * Item-based k-nearest neighbours: cosine similarity between items' user sets, the
 * `neighbours` most similar kept per item; a candidate scores the (weighted) sum of its
 * similarities to the user's history items. Neighbour lists are computed on first use.
 */
export class ItemKnnRecommender implements BaselineRecommender {
  readonly name: string;
  private readonly lists = new Map<number, { items: Int32Array; sims: Float64Array }>();
  private readonly co: Float64Array;

  constructor(
    private readonly matrix: TrainingMatrix,
    private readonly options: ItemKnnOptions = { neighbours: 50, decay: 1 },
  ) {
    this.name = options.decay === 1 ? 'item-knn' : `item-knn recency ${options.decay}`;
    this.co = new Float64Array(matrix.itemCount);
  }

  /** The item's neighbours, most similar first. */
  neighbours(item: number): { items: Int32Array; sims: Float64Array } {
    let list = this.lists.get(item);
    if (list) return list;
    const { itemUsers, userItems } = this.matrix;
    const co = this.co;
    const touched: number[] = [];
    for (const u of itemUsers[item]) {
      for (const j of userItems[u]) {
        if (j === item) continue;
        if (co[j] === 0) touched.push(j);
        co[j]++;
      }
    }
    const sims = new Float64Array(this.matrix.itemCount);
    const norm = Math.sqrt(itemUsers[item].length);
    for (const j of touched) {
      sims[j] = co[j] / (norm * Math.sqrt(itemUsers[j].length));
      co[j] = 0;
    }
    const top = topScores(sims, this.options.neighbours, new Set(), true);
    list = { items: Int32Array.from(top), sims: Float64Array.from(top, (j) => sims[j]) };
    this.lists.set(item, list);
    return list;
  }

  recommend(userId: string, k: number): string[] {
    const history = this.matrix.histories.get(userId);
    if (!history || history.length === 0) return [];
    const scores = new Float64Array(this.matrix.itemCount);
    let weight = 1;
    for (let h = history.length - 1; h >= 0; h--) {
      const { items, sims } = this.neighbours(history[h]);
      for (let n = 0; n < items.length; n++) scores[items[n]] += weight * sims[n];
      weight *= this.options.decay;
    }
    return topScores(scores, k, new Set(history), true).map((i) => this.matrix.itemIds[i]);
  }
}
