import { ArmSummary } from './round-stats';

export interface RoundResult {
  round: number;
  /** Active model version while the round ran (null: the feed's fallback ranking). */
  model: string | null;
  feed: ArmSummary;
  random: ArmSummary;
  popularity: ArmSummary;
  /** The ceiling: a recommender that knows the hidden taste. */
  ideal: ArmSummary;
}

export interface RetrainMark {
  /** The last round before the retrained model could serve. */
  afterRound: number;
  /** The version trained (null if training failed). */
  model: string | null;
  /** Whether it replaced the active model. */
  promoted: boolean;
}

interface Series {
  label: string;
  color: string;
  dash?: string;
  values: (number | null)[];
}

const W = 960;
const PANEL_H = 190;
const LEFT = 70;
const RIGHT = 200;
const TOP = 96;
const GAP = 46;

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

function niceMax(max: number): number {
  if (max <= 0) return 1;
  const exp = Math.pow(10, Math.floor(Math.log10(max)));
  for (const m of [1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10]) if (m * exp >= max) return m * exp;
  return 10 * exp;
}

function panel(
  top: number,
  title: string,
  series: Series[],
  rounds: number[],
  retrains: RetrainMark[],
  format: (v: number) => string,
  fixedMax?: number,
): string {
  const plotW = W - LEFT - RIGHT;
  const maxValue = fixedMax ?? niceMax(Math.max(0, ...series.flatMap((s) => s.values.filter((v): v is number => v !== null))) * 1.05);
  const first = rounds[0] ?? 1;
  const last = rounds[rounds.length - 1] ?? 1;
  const x = (r: number) => LEFT + (last === first ? plotW / 2 : ((r - first) / (last - first)) * plotW);
  const y = (v: number) => top + PANEL_H - (v / maxValue) * PANEL_H;
  const out: string[] = [`<text x="${LEFT}" y="${top - 10}" class="title">${esc(title)}</text>`];
  for (let i = 0; i <= 4; i++) {
    const v = (maxValue * i) / 4;
    out.push(`<line x1="${LEFT}" x2="${LEFT + plotW}" y1="${y(v)}" y2="${y(v)}" class="grid"/>`);
    out.push(`<text x="${LEFT - 8}" y="${y(v) + 4}" class="tick" text-anchor="end">${esc(format(v))}</text>`);
  }
  const step = Math.max(1, Math.ceil(rounds.length / 12));
  rounds.forEach((r, i) => {
    if (i % step === 0 || i === rounds.length - 1) {
      out.push(`<text x="${x(r)}" y="${top + PANEL_H + 16}" class="tick" text-anchor="middle">${r}</text>`);
    }
  });
  for (const m of retrains) {
    const xr = x(m.afterRound + 0.5);
    out.push(`<line x1="${xr}" x2="${xr}" y1="${top}" y2="${top + PANEL_H}" class="retrain"/>`);
    const label = m.promoted && m.model ? `new model ${m.model}` : m.model ? 'retrained, no better: kept' : 'retrain failed';
    out.push(`<text x="${xr + 4}" y="${top + 12}" class="retrain-label">${esc(label)}</text>`);
  }
  series.forEach((s, i) => {
    const pts = s.values.map((v, j) => (v === null ? null : `${x(rounds[j]).toFixed(1)},${y(v).toFixed(1)}`)).filter(Boolean);
    if (pts.length === 0) return;
    out.push(
      `<polyline points="${pts.join(' ')}" fill="none" stroke="${s.color}" stroke-width="2.5"${s.dash ? ` stroke-dasharray="${s.dash}"` : ''}/>`,
    );
    if (pts.length === 1) {
      const [cx, cy] = pts[0]!.split(',');
      out.push(`<circle cx="${cx}" cy="${cy}" r="3" fill="${s.color}"/>`);
    }
    const ly = top + 18 + i * 20;
    out.push(
      `<line x1="${LEFT + plotW + 16}" x2="${LEFT + plotW + 40}" y1="${ly - 4}" y2="${ly - 4}" stroke="${s.color}" stroke-width="2.5"${s.dash ? ` stroke-dasharray="${s.dash}"` : ''}/>`,
    );
    out.push(`<text x="${LEFT + plotW + 46}" y="${ly}" class="legend">${esc(s.label)}</text>`);
  });
  out.push(`<rect x="${LEFT}" y="${top}" width="${plotW}" height="${PANEL_H}" class="frame"/>`);
  return out.join('\n');
}

const FEED = '#e8336b';
const POP = '#3b82f6';
const RAND = '#8b93a7';
const IDEAL = '#10b981';

/** A self-contained SVG chart of the simulator run: engagement, HR@10 and feed latency per round. `subtitle`: one or two lines. */
export function renderChart(results: RoundResult[], retrains: RetrainMark[], subtitle: string): string {
  const rounds = results.map((r) => r.round);
  const pct = (v: number) => `${Math.round(v * 100)}%`;
  const arms = (pick: (a: RoundResult['feed']) => number) => [
    { label: 'reelrank feed', color: FEED, values: results.map((r) => pick(r.feed)) },
    { label: 'popularity', color: POP, dash: '7 4', values: results.map((r) => pick(r.popularity)) },
    { label: 'random', color: RAND, dash: '2 4', values: results.map((r) => pick(r.random)) },
    { label: 'ideal (knows the taste)', color: IDEAL, dash: '1 3', values: results.map((r) => pick(r.ideal)) },
  ];
  const height = TOP + 3 * PANEL_H + 2 * GAP + 40;
  const panels = [
    panel(TOP, 'Engagement rate: share of impressions liked or completed', arms((a) => a.engagementRate), rounds, retrains, pct),
    panel(TOP + PANEL_H + GAP, 'HR@10: share of the top 10 the hidden taste would engage with', arms((a) => a.hitRateAt10), rounds, retrains, pct, 1),
    panel(
      TOP + 2 * (PANEL_H + GAP),
      'Feed latency (client-measured, ms)',
      [
        { label: 'p50', color: FEED, values: results.map((r) => r.feed.latencyP50Ms) },
        { label: 'p95', color: '#f59e0b', dash: '7 4', values: results.map((r) => r.feed.latencyP95Ms) },
      ],
      rounds,
      retrains,
      (v) => (v >= 10 ? v.toFixed(0) : v.toFixed(1)),
    ),
  ];
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${height}" width="${W}" height="${height}" font-family="system-ui, -apple-system, Segoe UI, Roboto, sans-serif">
<style>
  .bg { fill: #ffffff; }
  .h1 { font-size: 18px; font-weight: 700; fill: #111827; }
  .sub { font-size: 12px; fill: #6b7280; }
  .title { font-size: 13px; font-weight: 600; fill: #111827; }
  .tick { font-size: 11px; fill: #6b7280; }
  .legend { font-size: 12px; fill: #374151; }
  .grid { stroke: #e5e7eb; stroke-width: 1; }
  .frame { fill: none; stroke: #d1d5db; }
  .retrain { stroke: #8b5cf6; stroke-width: 1.5; stroke-dasharray: 4 3; }
  .retrain-label { font-size: 11px; fill: #6d28d9; }
</style>
<rect class="bg" width="100%" height="100%"/>
<text x="${LEFT}" y="24" class="h1">Reelrank simulator: the feed learning from events</text>
${subtitle
  .split('\n')
  .map((line, i) => `<text x="${LEFT}" y="${44 + i * 16}" class="sub">${esc(line)}</text>`)
  .join('\n')}
${panels.join('\n')}
<text x="${LEFT + (W - LEFT - RIGHT) / 2}" y="${height - 8}" class="tick" text-anchor="middle">round</text>
</svg>
`;
}
