import { EventType } from '../../events/event-types';
import { CatalogVideo } from '../../features/catalog-video';
import { DEFAULT_FEATURE_NAMES, userContext } from '../../features/feature-registry';
import { buildFeatureMatrix, resolveFeatures } from '../../features/feature-spec';
import { applyUserEvent, emptyUserState } from '../../features/user-state';
import { applyVideoStatDelta, emptyVideoStats, videoStatDelta } from '../../features/video-stats';
import { createRng } from '../model/mlp';
import { ItemNeighbours } from '../../features/item-neighbours';
import { ROW_KIND, withInteractionRows } from './interaction-rows';
import { buildPointInTimeDataset, DatasetOptions, FeatureSet } from './point-in-time-dataset';
import { EventLog, ImpressionLog, Interner, NO_REQUEST, TrainingLog } from './training-log';

const DIM = 4;
const T0 = Date.UTC(2026, 9, 1);
const MIN = 60_000;

interface RawEvent {
  at: number;
  user: string;
  video: number;
  type: EventType;
  watchMs?: number;
  request?: string;
}
interface RawImpression {
  at: number;
  user: string;
  video: number;
  request: string;
}

function catalogOf(n: number): CatalogVideo[] {
  return Array.from({ length: n }, (_, i) => ({
    id: `v${i}`,
    creatorId: `c${i % 3}`,
    title: `v${i}`,
    category: ['dance', 'cooking'][i % 2],
    tags: [],
    durationMs: 20_000,
    createdAt: T0 - 86_400_000,
    embedding: Float32Array.from({ length: DIM }, (_, d) => (d === i % DIM ? 1 : 0)),
    active: true,
  }));
}

function makeLog(videos: CatalogVideo[], events: RawEvent[], impressions: RawImpression[], follows = new Map<string, string[]>()): TrainingLog {
  const users = new Interner();
  const requests = new Interner();
  const log: TrainingLog = {
    catalog: { videos, index: new Map(videos.map((v, i) => [v.id, i])), content: videos.map((v) => v.embedding), learned: videos.map(() => null) },
    follows,
    users,
    requests,
    events: new EventLog(),
    impressions: new ImpressionLog(),
  };
  for (const e of [...events].sort((a, b) => a.at - b.at)) {
    log.events.push(e.at, users.id(e.user), e.video, e.type, e.watchMs ?? null, e.request ? requests.id(e.request) : NO_REQUEST);
  }
  for (const i of [...impressions].sort((a, b) => a.at - b.at)) log.impressions.push(i.at, users.id(i.user), i.video, requests.id(i.request));
  return log;
}

const allFeatures = (): FeatureSet => ({ names: [...DEFAULT_FEATURE_NAMES], defs: resolveFeatures({ features: [...DEFAULT_FEATURE_NAMES] } as never), loggedUnder: new Set() });

const options = (overrides: Partial<DatasetOptions> = {}): DatasetOptions => ({
  featureSets: [allFeatures()],
  heldOutFrom: Infinity,
  labelWindowMs: 30 * MIN,
  embeddingDim: DIM,
  rankingUsers: 0,
  rankingNegatives: 0,
  seed: 1,
  ...overrides,
});

/**
 * Features of one impression recomputed from scratch with only the events strictly
 * before it; `catalogAt` gives the catalog as it was at a time (default: unchanging).
 */
function bruteForceRow(videos: CatalogVideo[], events: RawEvent[], imp: RawImpression, catalogAt = (_at: number) => videos): Float32Array {
  const state = emptyUserState(DIM);
  const stats = emptyVideoStats();
  for (const e of [...events].sort((a, b) => a.at - b.at)) {
    if (e.at >= imp.at) continue;
    const ev = { eventId: '', userId: e.user, videoId: `v${e.video}`, type: e.type, watchMs: e.watchMs ?? null, occurredAt: e.at };
    if (e.user === imp.user) applyUserEvent(state, ev, catalogAt(e.at)[e.video]);
    if (e.video === imp.video) applyVideoStatDelta(stats, videoStatDelta(e.type, e.watchMs ?? null));
  }
  const features = resolveFeatures({ features: [...DEFAULT_FEATURE_NAMES] } as never);
  return buildFeatureMatrix(features, userContext(state, imp.at), [catalogAt(imp.at)[imp.video]], [stats]);
}

/** A random log: users are served videos and react (view or skip, sometimes like/complete/share) a few seconds later. */
function randomWorld(seed: number, users: number, perUser: number) {
  const rng = createRng(seed);
  const videos = catalogOf(12);
  const events: RawEvent[] = [];
  const impressions: RawImpression[] = [];
  for (let u = 0; u < users; u++) {
    for (let k = 0; k < perUser; k++) {
      const at = T0 + Math.floor(rng() * 48 * 60) * MIN;
      const video = Math.floor(rng() * videos.length);
      const request = `r-u${u}-${k}`;
      const user = `u${u}`;
      impressions.push({ at, user, video, request });
      events.push({ at, user, video, type: 'impression', request });
      const skip = rng() < 0.5;
      events.push({ at: at + 3000, user, video, type: skip ? 'skip' : 'view', watchMs: skip ? 2000 : 15_000, request });
      if (!skip && rng() < 0.5) events.push({ at: at + 3001, user, video, type: 'like', request });
      if (!skip && rng() < 0.3) events.push({ at: at + 3002, user, video, type: 'complete', request });
    }
  }
  return { videos, events, impressions };
}

describe('buildPointInTimeDataset', () => {
  it('computes every row from the events strictly before its impression (no leakage from the future)', async () => {
    const { videos, events, impressions } = randomWorld(3, 6, 25);
    const ds = await buildPointInTimeDataset(makeLog(videos, events, impressions), options());
    expect(ds.rows).toBe(impressions.length);
    const sorted = [...impressions].sort((a, b) => a.at - b.at);
    const width = DEFAULT_FEATURE_NAMES.length;
    for (let r = 0; r < ds.rows; r++) {
      const expected = bruteForceRow(videos, events, sorted[r]);
      expect(Array.from(ds.x.subarray(r * width, (r + 1) * width))).toEqual(Array.from(expected));
    }
  });

  it('switches item embeddings at each refresh: earlier rows and events never see the refreshed vectors', async () => {
    const { videos, events, impressions } = randomWorld(7, 6, 25);
    // videos 0-3 have no content embedding: theirs come from the refreshes
    const learnedIds = [0, 1, 2, 3];
    for (const v of learnedIds) videos[v].embedding = null;
    const refreshAt = T0 + 24 * 60 * MIN;
    const learned = new Map(learnedIds.map((v) => [v, Float32Array.from({ length: DIM }, (_, d) => (d === (v + 1) % DIM ? 1 : 0))]));
    const before = videos.map((v) => ({ ...v }));
    const after = videos.map((v, i) => ({ ...v, embedding: learned.get(i) ?? v.embedding }));
    const catalogAt = (at: number) => (at < refreshAt ? before : after);

    const ds = await buildPointInTimeDataset(makeLog(videos, events, impressions), options({ embeddingRefreshes: [{ at: refreshAt, learned }] }));
    const sorted = [...impressions].sort((a, b) => a.at - b.at);
    const width = DEFAULT_FEATURE_NAMES.length;
    const hasEmbedding = { before: new Set<number>(), after: new Set<number>() };
    for (let r = 0; r < ds.rows; r++) {
      const row = ds.x.subarray(r * width, (r + 1) * width);
      expect(Array.from(row)).toEqual(Array.from(bruteForceRow(videos, events, sorted[r], catalogAt)));
      if (learnedIds.includes(sorted[r].video)) {
        hasEmbedding[sorted[r].at < refreshAt ? 'before' : 'after'].add(row[DEFAULT_FEATURE_NAMES.indexOf('video_has_embedding')]);
      }
    }
    expect([...hasEmbedding.before]).toEqual([0]);
    expect([...hasEmbedding.after]).toEqual([1]);
  });

  it('does not let a burst of engagement right after an impression change its features', async () => {
    const videos = catalogOf(2);
    const imp = { at: T0 + 60 * MIN, user: 'u', video: 0, request: 'r1' };
    const past: RawEvent[] = [{ at: T0, user: 'u', video: 1, type: 'like', request: 'r0' }];
    const future: RawEvent[] = [
      { at: imp.at, user: 'u', video: 0, type: 'impression', request: 'r1' },
      { at: imp.at + 1, user: 'u', video: 0, type: 'like', request: 'r1' },
      { at: imp.at + 2, user: 'u', video: 0, type: 'share', request: 'r1' },
      { at: imp.at + 3, user: 'other', video: 0, type: 'like' },
    ];
    const withFuture = await buildPointInTimeDataset(makeLog(videos, [...past, ...future], [imp]), options());
    const pastOnly = await buildPointInTimeDataset(
      makeLog(videos, [...past, { at: imp.at, user: 'u', video: 0, type: 'impression', request: 'r1' }], [imp]),
      options(),
    );
    expect(Array.from(withFuture.x)).toEqual(Array.from(pastOnly.x));
    const col = (name: string) => DEFAULT_FEATURE_NAMES.indexOf(name);
    expect(withFuture.x[col('user_likes_log')]).toBeCloseTo(Math.log1p(1));
    expect(withFuture.x[col('video_like_rate')]).toBeCloseTo(pastOnly.x[col('video_like_rate')]);
    // like, complete, share, skip, engage
    expect(Array.from(withFuture.y)).toEqual([1, 0, 1, 0, 1]);
  });

  it('labels an impression with the engagement that followed it, preferring its request id, within the window', async () => {
    const videos = catalogOf(2);
    const impressions: RawImpression[] = [
      { at: T0, user: 'u', video: 0, request: 'a' },
      { at: T0 + MIN, user: 'u', video: 0, request: 'b' },
      { at: T0 + 2 * MIN, user: 'u', video: 1, request: 'c' },
    ];
    const events: RawEvent[] = [
      // answers the older impression of the same video by request id
      { at: T0 + 2 * MIN, user: 'u', video: 0, type: 'like', request: 'a' },
      // no request id: goes to the latest impression of that video
      { at: T0 + 3 * MIN, user: 'u', video: 0, type: 'skip', watchMs: 100 },
      // too late for impression c (window 30 min)
      { at: T0 + 40 * MIN, user: 'u', video: 1, type: 'like', request: 'c' },
    ];
    const ds = await buildPointInTimeDataset(makeLog(videos, events, impressions), options());
    // impression c had no reaction inside its window: never shown, dropped
    expect(ds.rows).toBe(2);
    expect(ds.stats.unexposed).toBe(1);
    expect(Array.from(ds.y)).toEqual([1, 0, 0, 0, 1, 0, 0, 0, 1, 0]);
  });

  it('splits by time and builds ranking queries whose relevant items are the held-out engagements', async () => {
    const { videos, events, impressions } = randomWorld(5, 8, 30);
    const sorted = [...impressions].sort((a, b) => a.at - b.at);
    const heldOutFrom = sorted[Math.floor(sorted.length * 0.75)].at;
    const log = makeLog(videos, events, impressions);
    const ds = await buildPointInTimeDataset(log, options({ heldOutFrom, rankingUsers: 100, rankingNegatives: 3 }));
    expect(ds.trainRows).toBe(sorted.filter((i) => i.at < heldOutFrom).length);
    for (let r = 0; r < ds.rows; r++) expect(ds.at[r] < heldOutFrom).toBe(r < ds.trainRows);
    expect(ds.queries.length).toBe(8);
    for (const q of ds.queries) {
      const user = log.users.values[q.user];
      const positives = new Set(
        events.filter((e) => e.user === user && e.at >= heldOutFrom && ['like', 'complete'].includes(e.type)).map((e) => e.video),
      );
      q.videos.forEach((v, i) => expect(q.relevant[i] === 1).toBe(positives.has(v)));
      expect(q.x[0].length).toBe(q.videos.length * DEFAULT_FEATURE_NAMES.length);
    }
  });

  it('starts every user from the follows table, as the live pipeline and replay do', async () => {
    const videos = catalogOf(3);
    const imp = { at: T0, user: 'u', video: 1, request: 'r' };
    const events: RawEvent[] = [{ at: T0 + 1, user: 'u', video: 1, type: 'view', watchMs: 100, request: 'r' }];
    const ds = await buildPointInTimeDataset(makeLog(videos, events, [imp], new Map([['u', ['c1']]])), options());
    expect(ds.x[DEFAULT_FEATURE_NAMES.indexOf('user_follows_creator')]).toBe(1);
  });

  it('reuses feature vectors logged under a model with the same spec', async () => {
    const videos = catalogOf(2);
    const log = makeLog(videos, [{ at: T0 + 1, user: 'u', video: 0, type: 'view', watchMs: 100, request: 'a' }], []);
    const logged = Float32Array.from(DEFAULT_FEATURE_NAMES, (_, j) => j + 0.5);
    log.impressions.push(T0, log.users.id('u'), 0, log.requests.id('a'), { modelVersion: 'm1', features: logged });
    const set = { ...allFeatures(), loggedUnder: new Set(['m1']) };
    const ds = await buildPointInTimeDataset(log, options({ featureSets: [set] }));
    expect(Array.from(ds.x)).toEqual(Array.from(logged));
    expect(ds.stats.loggedFeatureRows).toBe(1);
  });
});

describe(withInteractionRows.name, () => {
  const videos = catalogOf(12);
  // Three users watch videos in a chain; nobody logged an impression.
  const events: RawEvent[] = [];
  const liked = new Set<string>();
  ['a', 'b', 'c'].forEach((user, u) =>
    [0, 1, 2, 3].forEach((v, i) => {
      events.push({ at: T0 + (u * 10 + i) * MIN, user, video: v + u, type: 'view' });
      if (v % 2 === 0) {
        events.push({ at: T0 + (u * 10 + i) * MIN, user, video: v + u, type: 'like' });
        liked.add(`${user}:${v + u}`);
      }
    }),
  );

  it('adds a row per first reaction retrieval would have offered, with sampled negatives the user had not engaged with, in time order', () => {
    const log = makeLog(videos, events, []);
    const rows = withInteractionRows(log, { negatives: 4, maxEngaged: 1000, seed: 3, neighbours: [] });
    // Without neighbours only the popular list retrieves: videos someone engaged with before (user a's are all new).
    expect(rows.engaged).toBe(6);
    expect(rows.sampled).toBeGreaterThan(12);
    const imp = rows.impressions;
    const engagedBefore = new Map<number, Set<number>>();
    for (let r = 0; r < imp.length; r++) {
      if (r > 0) expect(imp.at[r]).toBeGreaterThanOrEqual(imp.at[r - 1]);
      const own = engagedBefore.get(imp.user[r]) ?? new Set<number>();
      engagedBefore.set(imp.user[r], own);
      if (rows.kinds[r] === ROW_KIND.sampled) expect(own.has(imp.video[r])).toBe(false);
      if (rows.kinds[r] === ROW_KIND.engaged) own.add(imp.video[r]);
    }
  });

  it('makes engaged rows labelled by their own events and sampled rows exposed negatives, with point-in-time history features', async () => {
    const log = makeLog(videos, events, []);
    const neighbours = ItemNeighbours.fromRows(
      12,
      new Map([[0, { ids: [1], co: [3], next: [3] }]]),
      Float32Array.from({ length: 12 }, () => 3),
    );
    const rows = withInteractionRows(log, { negatives: 2, maxEngaged: 1000, seed: 3, neighbours: [{ at: T0, index: neighbours }] });
    log.impressions = rows.impressions;
    const ds = await buildPointInTimeDataset(log, options({ kinds: rows.kinds, neighbourRefreshes: [{ at: T0, index: neighbours }] }));
    expect(ds.rows).toBe(rows.engaged + rows.sampled);
    const heads = ds.heads.length;
    const col = (name: string) => DEFAULT_FEATURE_NAMES.indexOf(name);
    let engagedRows = 0;
    for (let r = 0; r < ds.rows; r++) {
      const y = Array.from(ds.y.subarray(r * heads, (r + 1) * heads));
      const engaged = y[ds.heads.indexOf('engage')] === 1;
      if (!engaged) {
        expect(y).toEqual([0, 0, 0, 0, 0]);
        continue;
      }
      engagedRows++;
      expect(y[ds.heads.indexOf('like')]).toBe(liked.has(`${log.users.values[ds.user[r]]}:${ds.video[r]}`) ? 1 : 0);
      const similarity = ds.x[r * ds.featureNames.length + col('history_similarity')];
      // User a's video 1 comes right after video 0, its neighbour: a signal from the past only.
      if (log.users.values[ds.user[r]] === 'a' && ds.video[r] === 1) expect(similarity).toBeGreaterThan(0);
      if (log.users.values[ds.user[r]] === 'a' && ds.video[r] === 0) expect(similarity).toBe(0);
    }
    // A sampled video the user engaged with within the label window counts as engaged, like a shown one.
    expect(engagedRows).toBeGreaterThanOrEqual(rows.engaged);
    expect(rows.engaged).toBeGreaterThan(6);
  });
});
