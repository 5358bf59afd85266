import { CatalogVideo } from './catalog-video';
import { DEFAULT_FEATURE_NAMES, FEATURE_REGISTRY, FeatureContext, userContext, VIDEO_ROW_FEATURES } from './feature-registry';
import { buildFeatureMatrix, resolveFeatures } from './feature-spec';
import { historyItems, ItemNeighbours, UserHistory } from './item-neighbours';
import { SequenceScores } from './sequence-scores';
import { VideoColumns } from './video-columns';
import { applyUserEvent, emptyUserState } from './user-state';
import { decodeVideoStats, emptyVideoStats, encodeVideoStats, VIDEO_STAT_FIELDS, VideoStats } from './video-stats';

const video = (i: number): CatalogVideo => ({
  id: `v${i}`,
  creatorId: `c${i % 3}`,
  title: '',
  category: `cat${i % 4}`,
  tags: [],
  durationMs: 5000 + 1000 * i,
  createdAt: 1_700_000_000_000 + i * 3_600_000,
  embedding: i % 5 === 0 ? null : Float32Array.from({ length: 4 }, (_, d) => Math.sin(i + d)),
  active: true,
});

describe('feature matrix', () => {
  const videos = Array.from({ length: 12 }, (_, i) => video(i));
  const stats: VideoStats[] = videos.map((_, i) => ({ ...emptyVideoStats(), views: i * 3, likes: i, skips: 12 - i, impressions: 40, watchMs: 1000 * i }));
  const user = emptyUserState(4);
  [0, 1, 2, 7].forEach((i, k) =>
    applyUserEvent(user, { eventId: `e${k}`, userId: 'u', videoId: videos[i].id, type: k === 3 ? 'skip' : 'like', watchMs: 900, occurredAt: 1_800_000_000_000 + k }, videos[i]),
  );
  const ctx = userContext(user, 1_800_000_100_000);

  it('equals every feature computed cell by cell (user-only features computed once)', () => {
    const features = resolveFeatures({ input: 'x', output: 'y', features: [...DEFAULT_FEATURE_NAMES], heads: ['h'] });
    const matrix = buildFeatureMatrix(features, ctx, videos, stats);
    videos.forEach((v, i) =>
      features.forEach((f, j) => {
        const expected = f.compute({ ...ctx, video: v, stats: stats[i] } as FeatureContext);
        expect(matrix[i * features.length + j]).toBeCloseTo(Number.isFinite(expected) ? expected : 0, 5);
      }),
    );
  });

  it('gives the same matrix when it reads the candidates from dense video columns', () => {
    const features = resolveFeatures({ input: 'x', output: 'y', features: [...DEFAULT_FEATURE_NAMES].reverse(), heads: ['h'] });
    const table = new VideoColumns(4);
    // Slots in another order than the videos, sparse, one of them assigned twice.
    const slots = Int32Array.from(videos, (_, i) => 3 * (videos.length - i));
    table.assign(slots[5], videos[0]);
    videos.forEach((v, i) => table.assign(slots[i], v));
    videos.forEach((v, i) => table.setRow(slots[i], v, stats[i]));
    const plain = buildFeatureMatrix(features, ctx, videos, stats);
    expect(buildFeatureMatrix(features, ctx, videos, stats, undefined, { table, slots })).toEqual(plain);
    // The columns are really read: a changed row value and a changed embedding show in their columns.
    const at = (name: string) => features.findIndex((f) => f.name === name);
    table.rows[slots[3] * table.rowWidth + VIDEO_ROW_FEATURES.findIndex((f) => f.name === 'video_duration_log')] = 42;
    table.embeddings.fill(0, slots[3] * 4, slots[3] * 4 + 4);
    const m = buildFeatureMatrix(features, ctx, videos, stats, undefined, { table, slots });
    expect(m[3 * features.length + at('video_duration_log')]).toBe(42);
    expect(plain[3 * features.length + at('user_video_cosine')]).not.toBe(0);
    expect(m[3 * features.length + at('user_video_cosine')]).toBe(0);
  });

  it('reads from the columns exactly what every feature with a fast path computes', () => {
    const table = new VideoColumns(4);
    const withFastPath = FEATURE_REGISTRY.filter((f) => f.columnFill);
    expect(withFastPath.map((f) => f.name)).toEqual(
      expect.arrayContaining([
        'user_video_cosine',
        'user_category_share',
        'user_category_affinity',
        'user_creator_affinity',
        'user_follows_creator',
        'history_similarity',
        'history_next',
        'history_category_share',
        'history_creator_share',
      ]),
    );
    const slots = videos.map((v, i) => (table.assign(i, v), i));
    // The user's context with follows, and one with a follow of a creator no video has.
    const following = { ...ctx, follows: new Set(['c1', 'nobody']) };
    // And one whose recent videos have neighbours, keyed like serving (the slot).
    const neighbours = ItemNeighbours.fromRows(
      12,
      new Map([
        [0, { ids: [3, 4, 5], co: [2, 1, 0.5], next: [1, 0, 0] }],
        [2, { ids: [4, 9], co: [3, 1], next: [0, 2] }],
      ]),
      Float32Array.from({ length: 12 }, (_, i) => 1 + i),
    );
    const keyOf = (id: string) => Number(id.slice(1));
    const history = new UserHistory(neighbours, historyItems(user.recent, (id) => ({ key: keyOf(id), category: videos[keyOf(id)].category, creatorId: videos[keyOf(id)].creatorId })));
    const withHistory = userContext(user, ctx.now, history, (v) => keyOf(v.id));
    expect(history.value(4, 0)).not.toBe(0);
    // And a sequence model's vector, with rows for the first 10 keys only (the rest score 0).
    const sequence = SequenceScores.of(Float32Array.from([0.5, -1, 2, 0.25]), Float32Array.from({ length: 40 }, (_, i) => Math.cos(i)), 4);
    const withSequence = userContext(user, ctx.now, history, (v) => keyOf(v.id), sequence);
    expect(sequence.score(3)).not.toBe(0);
    for (const u of [ctx, following, userContext(emptyUserState(4), ctx.now), withHistory, withSequence]) {
      for (const f of withFastPath) {
        // Column 1 of a 3-wide matrix, so a fill that writes past its column or row is caught.
        const out = new Float32Array(slots.length * 3).fill(-7);
        f.columnFill!(u as FeatureContext, table)(Int32Array.from(slots), out, 3, 1);
        videos.forEach((v, i) => {
          expect([f.name, out[i * 3 + 1]]).toEqual([f.name, Math.fround(f.compute({ ...u, video: v, stats: stats[i] } as FeatureContext))]);
          expect([out[i * 3], out[i * 3 + 2]]).toEqual([-7, -7]);
        });
      }
    }
  });

  it('marks as per-video only features that do not change with the user', () => {
    const other = userContext(emptyUserState(4), ctx.now);
    expect(VIDEO_ROW_FEATURES.length).toBeGreaterThan(0);
    for (const f of VIDEO_ROW_FEATURES) {
      expect(f.perUser).toBeFalsy();
      videos.forEach((v, i) =>
        expect(f.compute({ ...ctx, video: v, stats: stats[i] } as FeatureContext)).toBe(f.compute({ ...other, video: v, stats: stats[i] } as FeatureContext)),
      );
    }
  });

  it('marks as per-user only features that do not change with the video', () => {
    for (const f of FEATURE_REGISTRY.filter((d) => d.perUser)) {
      const values = videos.map((v, i) => f.compute({ ...ctx, video: v, stats: stats[i] } as FeatureContext));
      expect(new Set(values).size).toBe(1);
    }
  });
});

describe('video stats shape', () => {
  it('has every wire field in order, and the fast decoder agrees with the field list', () => {
    expect(Object.keys(emptyVideoStats())).toEqual([...VIDEO_STAT_FIELDS]);
    const stats = Object.fromEntries(VIDEO_STAT_FIELDS.map((f, i) => [f, i + 0.5])) as VideoStats;
    expect(decodeVideoStats(encodeVideoStats(stats))).toEqual(stats);
  });
});
