import { parseArgs } from 'node:util';
import { WorldSize } from './world';

/**
 * Parses `--users --videos --creators --history --coverage --seed --now --history-days`; the
 * defaults seed in seconds. The history ends an hour before `--now` (default: the current time),
 * so a freshly seeded world has live affinities and trending.
 */
export function parseSeedArgs(argv: string[], embeddingDim: number): WorldSize {
  const { values } = parseArgs({
    args: argv,
    options: {
      users: { type: 'string', default: '300' },
      videos: { type: 'string', default: '3000' },
      creators: { type: 'string' },
      history: { type: 'string', default: '40' },
      coverage: { type: 'string', default: '0.8' },
      seed: { type: 'string', default: '42' },
      now: { type: 'string' },
      'history-days': { type: 'string', default: '7' },
    },
    strict: true,
  });
  const int = (name: string, raw: string | undefined, min: number, max: number) => {
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min || n > max) throw new Error(`--${name} must be an integer in [${min}, ${max}], got ${raw}`);
    return n;
  };
  const videos = int('videos', values.videos, 10, 5_000_000);
  const coverage = Number(values.coverage);
  if (!(coverage >= 0 && coverage <= 1)) throw new Error(`--coverage must be in [0, 1], got ${values.coverage}`);
  const now = values.now === undefined ? new Date() : new Date(values.now);
  if (Number.isNaN(now.getTime())) throw new Error(`--now must be an ISO date, got ${values.now}`);
  return {
    users: int('users', values.users, 1, 10_000_000),
    videos,
    creators: values.creators ? int('creators', values.creators, 1, 1_000_000) : Math.max(5, Math.round(videos / 20)),
    history: int('history', values.history, 0, 10_000),
    embeddingCoverage: coverage,
    embeddingDim,
    seed: int('seed', values.seed, 0, 2 ** 31),
    now,
    historyDays: int('history-days', values['history-days'], 1, 365),
  };
}
