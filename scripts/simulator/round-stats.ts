import { Engagement } from '../../seed/world';

export interface ArmSummary {
  pages: number;
  impressions: number;
  /** Share of impressions liked or completed (each impression counts once, so at most 1). */
  engagementRate: number;
  /** Share of each page's top 10 that the user's hidden taste would engage with, averaged over pages. */
  hitRateAt10: number;
  /** Feed request latency in ms (the real feed only). */
  latencyP50Ms: number | null;
  latencyP95Ms: number | null;
  errors: number;
}

export function quantile(sorted: number[], q: number): number | null {
  if (sorted.length === 0) return null;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

/** Accumulates one arm (the real feed or a baseline) over one round. */
export class ArmStats {
  private pages = 0;
  private impressions = 0;
  private engaged = 0;
  private hitShareSum = 0;
  private readonly latencies: number[] = [];
  private errors = 0;

  /** One served page: the hidden-taste verdict of each item in order, and how the user reacted. */
  addPage(relevant: boolean[], reactions: Engagement[], latencyMs?: number): void {
    this.pages++;
    this.impressions += reactions.length;
    for (const r of reactions) if (r.like || r.complete) this.engaged++;
    const top = relevant.slice(0, 10);
    this.hitShareSum += top.length === 0 ? 0 : top.filter(Boolean).length / top.length;
    if (latencyMs !== undefined) this.latencies.push(latencyMs);
  }

  addError(): void {
    this.errors++;
  }

  summary(): ArmSummary {
    const sorted = [...this.latencies].sort((a, b) => a - b);
    const round3 = (x: number) => Math.round(x * 1000) / 1000;
    const ms = (x: number | null) => (x === null ? null : Math.round(x * 100) / 100);
    return {
      pages: this.pages,
      impressions: this.impressions,
      engagementRate: round3(this.impressions === 0 ? 0 : this.engaged / this.impressions),
      hitRateAt10: round3(this.pages === 0 ? 0 : this.hitShareSum / this.pages),
      latencyP50Ms: ms(quantile(sorted, 0.5)),
      latencyP95Ms: ms(quantile(sorted, 0.95)),
      errors: this.errors,
    };
  }
}
