/** Jobs on QueueName.Training. */
export const TRAIN_JOB = 'train';
export const RETRAIN_SCHEDULER_ID = 'retrain';

export interface TrainingJobData {
  trigger: 'api' | 'schedule';
  windowHours?: number;
  autoPromote?: boolean;
}

const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** `30m` -> 1800000; `off` -> null. */
export function parseDuration(raw: string): number | null {
  if (raw === 'off') return null;
  const match = /^(\d+)(ms|s|m|h|d)$/.exec(raw);
  if (!match) throw new RangeError(`bad duration "${raw}" (expected off or e.g. 30m, 2h)`);
  const ms = Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS];
  if (ms <= 0) throw new RangeError(`duration must be positive, got "${raw}"`);
  return ms;
}
