import { parseSourceShares } from './source-shares';

/** The two popularity sources: decayed over 30 days, and of all time. */
export const POPULAR_30D_SOURCE = 'popular_30d';
export const POPULAR_SOURCE = 'popular';
/** Each popularity source's default share: equal, since which one predicts better depends on the catalog. */
export const POPULAR_DEFAULT_SHARE = 0.05;

/** A ranked list of video ids, each with the source it is credited to. */
export interface LabelledList {
  ids: string[];
  sources: string[];
}

export const EMPTY_LABELLED_LIST: LabelledList = { ids: [], sources: [] };

/**
 * The shares of the popularity blend: the two sources' FEED_SOURCES shares (their
 * defaults where not named); equal when both are off, since cold start still needs it.
 */
export function popularityShares(spec: string): { decayed: number; allTime: number } {
  const configured = parseSourceShares(spec);
  const decayed = configured.get(POPULAR_30D_SOURCE) ?? POPULAR_DEFAULT_SHARE;
  const allTime = configured.get(POPULAR_SOURCE) ?? POPULAR_DEFAULT_SHARE;
  return decayed + allTime > 0 ? { decayed, allTime } : { decayed: 1, allTime: 1 };
}

/**
 * Merges ranked lists into one, each taking its share of the places: the next place goes
 * to the list with the highest share / (2 * places taken + 1) (Sainte-Laguë apportionment,
 * ties to the earlier list), so every prefix of the result holds each list's share up to
 * one item. An id already placed is skipped; an exhausted list leaves its places to the others.
 */
export function blendByShare(lists: readonly { ids: readonly string[]; source: string; share: number }[], max: number): LabelledList {
  const out: LabelledList = { ids: [], sources: [] };
  const placed = new Set<string>();
  const next = lists.map(() => 0);
  const taken = lists.map(() => 0);
  while (out.ids.length < max) {
    let best = -1;
    let bestQuotient = 0;
    lists.forEach((list, k) => {
      while (next[k] < list.ids.length && placed.has(list.ids[next[k]])) next[k]++;
      if (next[k] >= list.ids.length || !(list.share > 0)) return;
      const quotient = list.share / (2 * taken[k] + 1);
      // Relative margin: 0.3 / 3 must tie with 0.1 / 1.
      if (quotient > bestQuotient * (1 + 1e-9)) [best, bestQuotient] = [k, quotient];
    });
    if (best < 0) break;
    const id = lists[best].ids[next[best]++];
    placed.add(id);
    taken[best]++;
    out.ids.push(id);
    out.sources.push(lists[best].source);
  }
  return out;
}
