const HOUR = 3_600_000;

/**
 * The window `npm run train` uses when neither --window-hours nor RETRAIN_WINDOW_HOURS
 * is given: it ends at the newest event, as every run does, and reaches back to the
 * oldest logged impression, so a seeded or imported log weeks older than today's
 * events is still covered. Null when there is nothing to train on.
 */
export function hoursCoveringLog(firstImpressionAt: number | null, lastEventAt: number | null): number | null {
  if (firstImpressionAt === null || lastEventAt === null) return null;
  return Math.max(1, Math.ceil((lastEventAt - firstImpressionAt) / HOUR));
}
