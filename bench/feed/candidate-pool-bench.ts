/**
 * The feed's candidate filter in isolation: a CatalogSnapshotService loaded with a
 * 100k-video catalog (as the api loads it), and a CandidatePool filled round-robin from
 * six sources' results (random catalog ordinals, 780 in all, as a personalised request
 * offers them) for a user with `--watched` watched videos, until it keeps 500. Prints the
 * median µs per pool over several 2 s runs. With --cold (the default), 64 MB is read
 * between two pools (not timed), so each starts with caches holding none of the catalog,
 * as a feed does when other work ran since the last one.
 *
 * `--checkout DIR` loads the catalog and the pool from another built checkout (its
 * dist/), so old and new code can be measured in turn on the same machine:
 *
 *   npm run build && node dist/bench/feed/candidate-pool-bench.js [--videos 100000] [--watched 40] [--runs 5] [--no-cold] [--checkout /path/to/old]
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { CatalogSnapshotService } from '../../src/catalog/catalog-snapshot.service';
import type { CandidatePool } from '../../src/feed/candidates/candidate-pool';
import type { CatalogVideo } from '../../src/features/catalog-video';
import { createRng } from '../../src/training/model/mlp';

const { values: args } = parseArgs({
  options: {
    videos: { type: 'string', default: '100000' },
    watched: { type: 'string', default: '40' },
    runs: { type: 'string', default: '5' },
    'no-cold': { type: 'boolean', default: false },
    checkout: { type: 'string', default: join(__dirname, '..', '..', '..') },
  },
});
const V = Number(args.videos);
const WATCHED = Number(args.watched);
const RUNS = Number(args.runs);
const COLD = !args['no-cold'];
const ROOT = args.checkout!;
/** Per source, how many ordinals it offers (about what the default shares ask for at FEED_CANDIDATES=500). */
const SOURCE_SIZES = [180, 120, 180, 100, 100, 100];

type CatalogClass = new (repository: unknown, pubsub: unknown, keys: unknown) => CatalogSnapshotService;
type PoolClass = new (...args: ConstructorParameters<typeof CandidatePool>) => CandidatePool;
/* eslint-disable @typescript-eslint/no-require-imports */
const { CatalogSnapshotService: Catalog } = require(join(ROOT, 'dist/src/catalog/catalog-snapshot.service')) as { CatalogSnapshotService: CatalogClass };
const { CandidatePool: Pool } = require(join(ROOT, 'dist/src/feed/candidates/candidate-pool')) as { CandidatePool: PoolClass };

const evict = new Int32Array(16 << 20);
let evictSum = 0;
/** Reads every cache line of 64 MB: what the caches held of the catalog is gone. */
function evictCaches(): void {
  for (let i = 0; i < evict.length; i += 16) evictSum += evict[i];
}

async function main(): Promise<void> {
  const random = createRng(20261204);
  // Allocated one after another, as the catalog loader does.
  const videos: CatalogVideo[] = Array.from({ length: V }, (_, i) => ({
    id: `v_${String(i).padStart(7, '0')}`,
    creatorId: `c_${i % 5000}`,
    title: `video ${i}`,
    category: `topic_${i % 20}`,
    tags: ['a', 'b'],
    durationMs: 10_000,
    createdAt: 0,
    embedding: null,
    active: true,
  }));
  const repository = {
    async *pages() {
      yield videos;
    },
  };
  const catalog = new Catalog(repository, {}, {});
  (catalog as unknown as { logger: { log: () => void } }).logger = { log: () => undefined };
  await catalog.reloadAll();
  const pick = () => Math.floor(random() * V);
  const requests = Array.from({ length: 64 }, () => ({
    results: SOURCE_SIZES.map((n, s) => ({ source: `s${s}`, ids: Int32Array.from({ length: n }, pick) })),
    seen: Array.from({ length: WATCHED }, pick),
  }));

  const usPerPool = (): number => {
    let timed = 0;
    let built = 0;
    const started = performance.now();
    while (performance.now() - started < 2000) {
      const r = requests[built % requests.length];
      if (COLD) evictCaches();
      // New strings, as the user's watched ids are when a feed has just read them from Redis.
      const seen = r.seen.map((i) => `v_${String(i).padStart(7, '0')}`);
      const t = performance.now();
      const pool = new Pool(catalog, { seen, served: [], exclude: [], blockedCreators: new Set(), publishedBy: Infinity }, 500);
      pool.offerRoundRobin(r.results);
      timed += performance.now() - t;
      if (pool.size !== 500) throw new Error(`pool kept ${pool.size}`);
      built++;
    }
    return (timed / built) * 1000;
  };
  const runs = Array.from({ length: RUNS }, usPerPool).sort((a, b) => a - b);
  process.stdout.write(
    `candidate pool (${ROOT}): ${SOURCE_SIZES.reduce((a, b) => a + b, 0)} offers of ${V} videos, ${WATCHED} watched, 500 kept, ` +
      `${COLD ? 'caches evicted before each' : 'back to back'}: median ${runs[Math.floor(RUNS / 2)].toFixed(1)} µs per pool over ${RUNS} runs of 2 s` +
      `${evictSum === 0 ? '' : ' '}\n`,
  );
}

void main();
