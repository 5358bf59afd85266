/** How a failing queue job is retried: delays grow from `firstDelayMs`, doubling, capped at `maxDelayMs`. */
export interface RetryPolicy {
  firstDelayMs: number;
  maxDelayMs: number;
  /** Outage the retries must outlast: the delays before the last attempt add up to at least this. */
  budgetMs: number;
  /** Fewest attempts, whatever the budget. */
  minAttempts: number;
}

export interface RetrySchedule {
  attempts: number;
  /** delays[i]: the wait after the (i+1)-th failed attempt. */
  delays: number[];
  totalDelayMs: number;
}

/** The wait after the `attemptsMade`-th failed attempt (1-based), as BullMQ asks a backoff strategy. */
export function retryDelay(attemptsMade: number, policy: Pick<RetryPolicy, 'firstDelayMs' | 'maxDelayMs'>): number {
  const exponent = Math.min(30, Math.max(0, attemptsMade - 1));
  return Math.min(policy.maxDelayMs, policy.firstDelayMs * 2 ** exponent);
}

/**
 * The attempts a job needs so that an outage of up to `budgetMs` starting at its first
 * attempt ends before its last one: a failover shorter than the budget never turns it
 * into a dead letter (an attempt that hangs before failing only adds to the time covered).
 */
export function retrySchedule(policy: RetryPolicy): RetrySchedule {
  const delays: number[] = [];
  let total = 0;
  while (delays.length + 1 < policy.minAttempts || total < policy.budgetMs) {
    const delay = retryDelay(delays.length + 1, policy);
    delays.push(delay);
    total += delay;
  }
  return { attempts: delays.length + 1, delays, totalDelayMs: total };
}
