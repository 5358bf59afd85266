import { parseArgs } from 'node:util';
import { parseSeedArgs } from '../../seed/seed-options';
import { WorldSize } from '../../seed/world';

export interface SimulatorOptions {
  url: string;
  rounds: number;
  simUsers: number;
  pageSize: number;
  /** Retrain (and activate) after every this many rounds; 0 never retrains. */
  trainEvery: number;
  concurrency: number;
  outDir: string;
  simSeed: number;
  /** Each round lasts at least this long (users come back every few seconds). */
  roundMs: number;
  /** Hours of log a retrain covers; null: from the start of the seeded history. */
  trainWindowHours: number | null;
  trainTimeoutMs: number;
  /** Simulate the seeded users themselves (with their logged history) instead of new users with their tastes. */
  seededIds: boolean;
  /** Activate each retrained model even when the registry judges it no better than the active one. */
  activateAlways: boolean;
  /** The seeded world, rebuilt from the same flags `npm run seed` took. */
  world: WorldSize;
}

const SEED_FLAGS = new Set(['users', 'videos', 'creators', 'history', 'coverage', 'seed', 'now', 'history-days']);

export const SIMULATOR_USAGE = `usage: npm run simulate -- [options] [seed flags]
  --url URL            api base URL (default http://127.0.0.1:$PORT)
  --rounds N           feed requests per simulated user (default 30)
  --round-ms N         each round lasts at least N ms (default 6000)
  --sim-users N        how many simulated users, each with the hidden taste of a seeded user (default 100)
  --seeded-ids         be the seeded users themselves (with their logged history) instead of
                       new users with their tastes (cold start, the default)
  --page-size N        feed page size, 10..50 (default 10)
  --train-every N      start a retrain in the background every N rounds; 0 = never (default 15).
                       The new model serves once it beats the active one on held-out data
  --train-window-hours N  hours of log each retrain covers (default: since the seeded history began)
  --activate-always    activate every retrained model, better or not
  --concurrency N      users acting at once (default 4)
  --out DIR            where results go (default sim-results)
  --sim-seed N         the simulator's own random seed (default 7)
  --train-timeout-s N  give up waiting for a retrain after N s (default 900)
  seed flags           --users --videos --creators --history --coverage --seed --now --history-days:
                       the same values given to npm run seed (defaults match its defaults)`;

/** Splits argv into the simulator's flags and the seed flags (passed to the seed's own parser). */
export function parseSimulatorArgs(argv: string[], env: { PORT: number; EMBEDDING_DIM: number }): SimulatorOptions {
  const seedArgs: string[] = [];
  const simArgs: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const name = /^--([^=]+)/.exec(argv[i])?.[1];
    const target = name && SEED_FLAGS.has(name) ? seedArgs : simArgs;
    target.push(argv[i]);
    if (!argv[i].includes('=') && i + 1 < argv.length && !argv[i + 1].startsWith('--')) target.push(argv[++i]);
  }
  const { values } = parseArgs({
    args: simArgs,
    options: {
      url: { type: 'string', default: `http://127.0.0.1:${env.PORT}` },
      rounds: { type: 'string', default: '30' },
      'round-ms': { type: 'string', default: '6000' },
      'sim-users': { type: 'string', default: '100' },
      'page-size': { type: 'string', default: '10' },
      'train-every': { type: 'string', default: '15' },
      'train-window-hours': { type: 'string' },
      concurrency: { type: 'string', default: '4' },
      out: { type: 'string', default: 'sim-results' },
      'sim-seed': { type: 'string', default: '7' },
      'train-timeout-s': { type: 'string', default: '900' },
      'activate-always': { type: 'boolean', default: false },
      'seeded-ids': { type: 'boolean', default: false },
    },
    strict: true,
  });
  const int = (name: keyof typeof values, min: number, max: number) => {
    const raw = values[name];
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min || n > max) throw new Error(`--${name} must be an integer in [${min}, ${max}], got ${raw}`);
    return n;
  };
  if (!/^https?:\/\/[^/]+/.test(values.url!)) throw new Error(`--url must be an http(s) URL, got ${values.url}`);
  return {
    url: values.url!.replace(/\/+$/, ''),
    rounds: int('rounds', 1, 10_000),
    simUsers: int('sim-users', 1, 100_000),
    pageSize: int('page-size', 10, 50),
    trainEvery: int('train-every', 0, 10_000),
    concurrency: int('concurrency', 1, 256),
    outDir: values.out!,
    simSeed: int('sim-seed', 0, 2 ** 31),
    roundMs: int('round-ms', 0, 600_000),
    trainWindowHours: values['train-window-hours'] === undefined ? null : int('train-window-hours', 1, 24 * 365),
    trainTimeoutMs: int('train-timeout-s', 1, 86_400) * 1000,
    activateAlways: values['activate-always']!,
    seededIds: values['seeded-ids']!,
    world: parseSeedArgs(seedArgs, env.EMBEDDING_DIM),
  };
}
