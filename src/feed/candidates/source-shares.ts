import { CandidateSource } from './candidate-source';

/** A source as one request runs it: its normalised share of the candidate budget. */
export interface PlannedSource {
  source: CandidateSource;
  share: number;
}

/** Parses `ann:0.3,fresh:0` (the format is validated by AppConfig). */
export function parseSourceShares(spec: string): Map<string, number> {
  const shares = new Map<string, number>();
  for (const pair of spec.split(',')) {
    const [name, value] = pair.split(':').map((s) => s.trim());
    if (name) shares.set(name, Number(value));
  }
  return shares;
}

/**
 * The sources a feed request runs, in registration order, with their shares: the
 * FEED_SOURCES value where it names the source, else the class's `defaultShare`;
 * sources at 0 are left out and the rest are scaled to sum to 1. Throws when the
 * spec names a source that is not registered or leaves none on.
 */
export function planSources(sources: readonly CandidateSource[], spec: string): PlannedSource[] {
  const configured = parseSourceShares(spec);
  const registered = sources.map((s) => s.name);
  const unknown = [...configured.keys()].filter((name) => !registered.includes(name));
  if (unknown.length > 0) {
    throw new Error(`FEED_SOURCES names unknown source(s) ${unknown.join(', ')}; registered: ${registered.join(', ')}`);
  }
  const weighted = sources.map((source) => ({ source, share: configured.get(source.name) ?? source.defaultShare })).filter((p) => p.share > 0);
  const total = weighted.reduce((sum, p) => sum + p.share, 0);
  if (total === 0) throw new Error(`FEED_SOURCES turns every candidate source off; registered: ${registered.join(', ')}`);
  return weighted.map((p) => ({ source: p.source, share: p.share / total }));
}
