import { buildHistory } from './history';
import { dot, Rng } from './random';
import { parseSeedArgs } from './seed-options';
import { buildWorld, simulateEngagement, TOPICS, WorldSize } from './world';

const size = (overrides: Partial<WorldSize> = {}): WorldSize => ({
  ...parseSeedArgs(['--users', '40', '--videos', '300', '--history', '10', '--now', '2026-11-01T00:00:00Z'], 16),
  ...overrides,
});

describe(buildWorld.name, () => {
  it('builds the same world from the same seed', () => {
    const a = buildWorld(size());
    const b = buildWorld(size());
    expect(b.videos).toEqual(a.videos);
    expect(b.users).toEqual(a.users);
    expect(b.creators).toEqual(a.creators);
    expect([...buildHistory(b)]).toEqual([...buildHistory(a)]);
  });

  it('builds a different world from a different seed', () => {
    const a = buildWorld(size({ seed: 1 }));
    const b = buildWorld(size({ seed: 2 }));
    expect(b.videos.map((v) => v.creatorId)).not.toEqual(a.videos.map((v) => v.creatorId));
    expect(b.users.map((u) => u.topicWeights)).not.toEqual(a.users.map((u) => u.topicWeights));
  });

  it('is sized by its flags, with stable ids and a share of content embeddings', () => {
    const world = buildWorld(size({ embeddingCoverage: 0.5 }));
    expect(world.users).toHaveLength(40);
    expect(world.videos).toHaveLength(300);
    expect(world.creators).toHaveLength(15);
    expect(world.videos[0].id).toBe('v_0000001');
    expect(world.users[39].id).toBe('u_0000040');
    const creatorIds = new Set(world.creators.map((c) => c.id));
    expect(world.videos.every((v) => creatorIds.has(v.creatorId))).toBe(true);
    const withEmbedding = world.videos.filter((v) => v.embedding !== null).length / world.videos.length;
    expect(withEmbedding).toBeGreaterThan(0.35);
    expect(withEmbedding).toBeLessThan(0.65);
    expect(world.videos.every((v) => v.embedding === null || v.embedding.length === 16)).toBe(true);
  });

  it('hides a taste in each user that drives engagement', () => {
    const world = buildWorld(size({ users: 60, videos: 600 }));
    const rng = new Rng(7);
    const near = { likes: 0, n: 0 };
    const far = { likes: 0, n: 0 };
    for (const user of world.users) {
      for (const video of world.videos) {
        const bucket = dot(user.taste, video.latent) > 0.5 ? near : dot(user.taste, video.latent) < 0 ? far : null;
        if (!bucket) continue;
        bucket.n++;
        if (simulateEngagement(user, video, rng).like) bucket.likes++;
      }
    }
    expect(near.n).toBeGreaterThan(100);
    expect(far.n).toBeGreaterThan(100);
    expect(near.likes / near.n).toBeGreaterThan(2 * (far.likes / far.n));
  });

  it('makes favourite topics dominate each user’s topic weights', () => {
    const world = buildWorld(size());
    for (const user of world.users) {
      expect(user.topicWeights).toHaveLength(TOPICS.length);
      expect(Math.max(...user.topicWeights)).toBeGreaterThan(0.2);
      expect(user.topicWeights.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 3);
    }
  });
});

describe(parseSeedArgs.name, () => {
  it('defaults to a small world that seeds in seconds', () => {
    const before = Date.now();
    const s = parseSeedArgs([], 32);
    expect(s).toMatchObject({ users: 300, videos: 3000, creators: 150, history: 40, seed: 42, embeddingDim: 32 });
    // The clock is the current time, so the seeded history ends an hour ago.
    expect(s.now.getTime()).toBeGreaterThanOrEqual(before);
    expect(s.now.getTime()).toBeLessThanOrEqual(Date.now());
  });

  it('rejects bad flags with the flag name', () => {
    expect(() => parseSeedArgs(['--videos', '-5'], 32)).toThrow(/--videos/);
    expect(() => parseSeedArgs(['--coverage', '2'], 32)).toThrow(/--coverage/);
    expect(() => parseSeedArgs(['--frobnicate', '1'], 32)).toThrow();
  });
});
