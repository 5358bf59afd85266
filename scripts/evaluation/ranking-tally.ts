/** HR@k, NDCG@k (one relevant item per user) and catalog coverage of a recommender's lists. */
export class RankingTally {
  private users = 0;
  private hits = 0;
  private dcg = 0;
  private readonly recommended = new Set<string>();

  constructor(readonly k: number) {}

  add(list: readonly string[], heldOut: string): void {
    this.users++;
    const top = list.slice(0, this.k);
    for (const id of top) this.recommended.add(id);
    const rank = top.indexOf(heldOut);
    if (rank >= 0) {
      this.hits++;
      this.dcg += 1 / Math.log2(rank + 2);
    }
  }

  result(catalogSize: number): { users: number; hitRate: number; ndcg: number; coverage: number } {
    const n = Math.max(1, this.users);
    return { users: this.users, hitRate: this.hits / n, ndcg: this.dcg / n, coverage: this.recommended.size / Math.max(1, catalogSize) };
  }
}

/** The q-quantile (0..1) of `values`, nearest rank. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}
