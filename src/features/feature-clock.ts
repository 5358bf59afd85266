import { Injectable } from '@nestjs/common';

/**
 * The time the feed computes features at (video age, hours since the user's last event,
 * decayed counters). Real time in production. Offline evaluation of an imported history
 * pins it to just after the log's newest event, so a log that ended months ago is served
 * as it would have been then, not with every age and decay shifted by the gap.
 */
@Injectable()
export class FeatureClock {
  private offsetMs = 0;

  now(): number {
    return Date.now() + this.offsetMs;
  }

  /** From now on `now()` reads `at` plus the real time elapsed since this call. */
  pinTo(at: number): void {
    this.offsetMs = at - Date.now();
  }
}
