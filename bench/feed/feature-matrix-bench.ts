/**
 * The feed's feature matrix in isolation: 500 candidates picked at random from a
 * 100k-video catalog (as a feed request does), the trained model's default features, for
 * a user with an embedding, affinities, follows, a history with co-engaged neighbours
 * and a sequence model's vector,
 * built through the video objects (training's path) and through the dense VideoColumns
 * (serving's path). Prints the median ms per matrix over several 2 s runs of each.
 * With --cold, a 64 MB buffer is read between two matrices (not timed), so each starts
 * with caches holding none of the catalog, as a feed does when other work ran since the
 * last one (a fixed request rate); without it, consecutive matrices keep part of the
 * tables cached (a saturated api).
 *
 *   npm run build && node dist/bench/feed/feature-matrix-bench.js [--videos 100000] [--candidates 500] [--runs 5] [--cold]
 */
import { parseArgs } from 'node:util';
import { CatalogVideo } from '../../src/features/catalog-video';
import { DEFAULT_TRAIN_FEATURES, userContext } from '../../src/features/feature-registry';
import { buildFeatureMatrix, resolveFeatures } from '../../src/features/feature-spec';
import { HISTORY_ITEMS, ItemNeighbours, UserHistory } from '../../src/features/item-neighbours';
import { SequenceScores } from '../../src/features/sequence-scores';
import { emptyUserState } from '../../src/features/user-state';
import { VideoColumns } from '../../src/features/video-columns';
import { emptyVideoStats, VideoStats } from '../../src/features/video-stats';

const { values: args } = parseArgs({
  options: {
    videos: { type: 'string', default: '100000' },
    candidates: { type: 'string', default: '500' },
    runs: { type: 'string', default: '5' },
    cold: { type: 'boolean', default: false },
  },
});
const V = Number(args.videos);
const N = Number(args.candidates);
const RUNS = Number(args.runs);
const COLD = args.cold;
const evict = new Int32Array(16 << 20);
let evictSum = 0;
/** Reads every cache line of 64 MB: what the caches held of the catalog is gone. */
function evictCaches(): void {
  for (let i = 0; i < evict.length; i += 16) evictSum += evict[i];
}
const DIM = 32;
const NOW = Date.UTC(2026, 10, 25);

/** Deterministic pseudo-random numbers (mulberry32). */
function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const random = rng(20261125);
// Allocated one after another, as the catalog loader does.
const videos: CatalogVideo[] = Array.from({ length: V }, (_, i) => ({
  id: `v_${i}`,
  creatorId: `c_${i % 5000}`,
  title: `video ${i}`,
  category: `topic_${i % 20}`,
  tags: ['a', 'b'],
  durationMs: 8_000 + (i % 50) * 1000,
  createdAt: NOW - (i % 1000) * 3_600_000,
  embedding: i % 10 === 0 ? null : Float32Array.from({ length: DIM }, () => random() - 0.5),
  active: true,
}));
const stats: VideoStats[] = videos.map((_, i) => ({ ...emptyVideoStats(), impressions: i % 300, views: i % 90, likes: i % 11, skips: i % 13, completes: i % 7, watchMs: (i % 90) * 9000 }));

const user = emptyUserState(DIM);
user.embedding = Array.from({ length: DIM }, () => random() - 0.5);
for (let c = 0; c < 20; c += 3) user.categoryAffinity.set(`topic_${c}`, c / 4);
for (let c = 0; c < 40; c++) user.creatorAffinity.set(`c_${c * 97}`, 1);
user.follows = ['c_1', 'c_2', 'c_3'];
user.lastEventAt = NOW - 60_000;
// A history of 20 videos with 200 co-engaged neighbours each, and a sequence model's
// vector and table over the catalog, keyed by slot as serving keys them.
const recentKeys = Array.from({ length: HISTORY_ITEMS }, () => Math.floor(random() * V));
const neighbours = ItemNeighbours.fromRows(
  V,
  new Map(
    recentKeys.map((key) => {
      const ids = [...new Set(Array.from({ length: 200 }, () => Math.floor(random() * V)))];
      return [key, { ids, co: ids.map(() => 1 + Math.floor(random() * 5)), next: ids.map(() => Math.floor(random() * 2)) }];
    }),
  ),
  Float32Array.from({ length: V }, () => 1 + Math.floor(random() * 50)),
);
const history = new UserHistory(
  neighbours,
  recentKeys.map((key) => ({ key, strength: 1, category: videos[key].category, creatorId: videos[key].creatorId })),
);
const sequence = SequenceScores.of(
  Float32Array.from({ length: DIM }, () => random() - 0.5),
  Float32Array.from({ length: V * DIM }, () => random() - 0.5),
  DIM,
);
const ctx = userContext(user, NOW, history, (v) => Number(v.id.slice(2)), sequence);
const features = resolveFeatures({ input: 'x', output: 'y', features: [...DEFAULT_TRAIN_FEATURES], heads: ['h'] });

const table = new VideoColumns(DIM);
const slotOf = videos.map((v, i) => {
  table.assign(i, v);
  table.setRow(i, v, stats[i]);
  return i;
});
const requests = Array.from({ length: 256 }, () => {
  const picked = Array.from({ length: N }, () => Math.floor(random() * V));
  return { videos: picked.map((i) => videos[i]), stats: picked.map((i) => stats[i]), slots: Int32Array.from(picked, (i) => slotOf[i]) };
});
const out = new Float32Array(N * features.length);

function msPerMatrix(mode: 'objects' | 'columns'): number {
  let timed = 0n;
  let built = 0;
  const started = process.hrtime.bigint();
  while (process.hrtime.bigint() - started < 2_000_000_000n) {
    const r = requests[built % requests.length];
    if (COLD) evictCaches();
    const t = process.hrtime.bigint();
    buildFeatureMatrix(features, ctx, r.videos, r.stats, out, mode === 'columns' ? { table, slots: r.slots } : undefined);
    timed += process.hrtime.bigint() - t;
    built++;
  }
  return Number(timed) / 1e6 / built;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const results: Record<'objects' | 'columns', number[]> = { objects: [], columns: [] };
for (let run = 0; run < RUNS; run++) {
  for (const mode of ['objects', 'columns'] as const) results[mode].push(msPerMatrix(mode));
}
process.stdout.write(
  `feature matrix, ${N} random candidates of ${V} videos, ${features.length} features, ${COLD ? 'caches evicted before each' : 'back to back'} (median of ${RUNS} runs of 2 s):\n` +
    `  through video objects: ${median(results.objects).toFixed(3)} ms\n` +
    `  through VideoColumns:  ${median(results.columns).toFixed(3)} ms\n`,
);
