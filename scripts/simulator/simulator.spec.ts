import { Rng } from '../../seed/random';
import { parseSeedArgs } from '../../seed/seed-options';
import { buildWorld, SeedUser, SeedVideo } from '../../seed/world';
import { ApiClient, ClientEvent, FeedPage, ModelVersionSummary } from './api-client';
import { PopularityBaseline, RandomBaseline } from './baselines';
import { renderChart } from './chart';
import { EngagementOracle } from './engagement-oracle';
import { ArmStats } from './round-stats';
import { parseSimulatorArgs } from './simulator-options';
import { eventsForReaction, Simulator, WorldMismatchError } from './simulator';

const ENV = { PORT: 3999, EMBEDDING_DIM: 16 };
const SMALL_WORLD = ['--users', '12', '--videos', '400', '--history', '10'];

/** Stands in for the HTTP API: serves pages chosen by `pick`, records events and training calls. */
class FakeApi {
  events: ClientEvent[] = [];
  models: ModelVersionSummary[] = [];
  trainCalls = 0;
  trainWindows: number[] = [];
  activated: string[] = [];
  /** What the registry decides about each trained model. */
  promote = true;
  private served = new Map<string, Set<string>>();

  constructor(
    private readonly videos: SeedVideo[],
    private readonly pick: (userId: string, candidates: SeedVideo[]) => SeedVideo[],
  ) {}

  asClient(): ApiClient {
    return {
      feed: async (token: string, limit: number) => {
        const served = this.served.get(token) ?? new Set<string>();
        this.served.set(token, served);
        const items = this.pick(token, this.videos.filter((v) => !served.has(v.id))).slice(0, limit);
        items.forEach((v) => served.add(v.id));
        const page: FeedPage = {
          requestId: `r-${served.size}`,
          items: items.map((v) => ({ videoId: v.id, creatorId: v.creatorId, category: 'x', title: v.title, durationMs: v.durationMs, score: 0, source: 'fake' })),
          nextCursor: `c-${served.size}`,
        };
        return { page, latencyMs: 2 };
      },
      postEvents: async (_token: string, events: ClientEvent[]) => {
        this.events.push(...events);
        return { accepted: events.length, duplicates: 0 };
      },
      listModels: async () => this.models,
      train: async (windowHours: number) => {
        this.trainWindows.push(windowHours);
        this.trainCalls++;
        this.models = [...this.models, { id: `m${this.trainCalls}`, status: 'candidate' }];
        return `job${this.trainCalls}`;
      },
      trainingStatus: async (jobId: string) => {
        const modelId = `m${jobId.slice(3)}`;
        const promoted = this.promote;
        if (promoted) this.models = this.models.map((m) => ({ ...m, status: m.id === modelId ? 'active' : m.status === 'active' ? 'retired' : m.status }));
        return { id: jobId, state: 'completed', failedReason: null, result: { modelId, promoted, decision: promoted ? 'beats active' : 'no better' } };
      },
      activate: async (id: string) => {
        this.activated.push(id);
        this.models = this.models.map((m) => (m.id === id ? { ...m, status: 'active' } : m));
      },
      ready: async () => true,
    } as unknown as ApiClient;
  }
}

function options(extra: string[] = []) {
  return parseSimulatorArgs(['--rounds', '4', '--sim-users', '12', '--round-ms', '0', '--train-every', '0', ...SMALL_WORLD, ...extra], ENV);
}

describe(Simulator.name, () => {
  const world = buildWorld(options().world);
  const oracle = new EngagementOracle();
  const byId = new Map(world.users.map((u) => [u.id, u]));
  /** The seeded taste behind a simulated user's id (`sim<run>_u_0000001` or the seeded id itself). */
  const tasteOf = (id: string) => byId.get(id.replace(/^sim[0-9a-z]+_/, ''))!;

  it('scores a feed that knows the hidden tastes far above the random and popularity baselines', async () => {
    const oracleFeed = (userId: string, candidates: SeedVideo[]) =>
      [...candidates].sort((a, b) => oracle.engageProbability(tasteOf(userId), b) - oracle.engageProbability(tasteOf(userId), a));
    const api = new FakeApi(world.videos, oracleFeed);
    const sim = new Simulator(options(), api.asClient(), () => undefined);
    const result = await sim.run(await sim.users(async (id) => id));
    expect(result.rounds).toHaveLength(4);
    for (const r of result.rounds) {
      expect(r.feed.pages).toBe(12);
      expect(r.feed.hitRateAt10).toBeGreaterThan(r.random.hitRateAt10 + 0.3);
      expect(r.feed.hitRateAt10).toBeGreaterThan(r.popularity.hitRateAt10 + 0.2);
      // The ideal baseline knows the tastes as well as this feed does.
      expect(Math.abs(r.ideal.hitRateAt10 - r.feed.hitRateAt10)).toBeLessThan(0.15);
    }
    const mean = (k: 'feed' | 'random') => result.rounds.reduce((s, r) => s + r[k].engagementRate, 0) / result.rounds.length;
    expect(mean('feed')).toBeGreaterThan(mean('random') * 1.5);
  });

  it('scores a random feed like the random baseline, and posts an impression plus view or skip per item', async () => {
    const rng = new Rng(3);
    const api = new FakeApi(world.videos, (_u, c) => Array.from({ length: 10 }, () => c[rng.int(c.length)]));
    const sim = new Simulator(options(), api.asClient(), () => undefined);
    const result = await sim.run(await sim.users(async (id) => id));
    const feed = result.rounds.reduce((s, r) => s + r.feed.hitRateAt10, 0) / 4;
    const random = result.rounds.reduce((s, r) => s + r.random.hitRateAt10, 0) / 4;
    expect(Math.abs(feed - random)).toBeLessThan(0.08);
    const ideal = result.rounds.reduce((s, r) => s + r.ideal.hitRateAt10, 0) / 4;
    expect(ideal).toBeGreaterThan(feed + 0.4);
    const impressions = api.events.filter((e) => e.type === 'impression').length;
    const watched = api.events.filter((e) => e.type === 'view' || e.type === 'skip').length;
    expect(impressions).toBe(result.rounds.reduce((s, r) => s + r.feed.impressions, 0));
    expect(watched).toBe(impressions);
  });

  it('retrains in the background while rounds go on; the registry activates a better model', async () => {
    const api = new FakeApi(world.videos, (_u, c) => c);
    const sim = new Simulator(options(['--train-every', '2', '--rounds', '5']), api.asClient(), () => undefined);
    const result = await sim.run(await sim.users(async (id) => id));
    // Started before round 3, seen finished before round 4, started again before round 5.
    expect(api.trainCalls).toBe(2);
    expect(api.activated).toEqual([]);
    expect(result.retrains).toEqual([{ afterRound: 3, model: 'm1', promoted: true }]);
    expect(result.rounds.map((r) => r.model)).toEqual([null, null, null, 'm1', 'm1']);
    // The window reaches back to the start of the seeded history (seed --now, by default the current time, minus --history-days).
    const seededFrom = Date.now() - 7 * 86_400_000;
    expect(api.trainWindows[0]).toBeGreaterThanOrEqual((Date.now() - seededFrom) / 3_600_000);
    expect(parseSimulatorArgs(['--train-window-hours', '6'], ENV).trainWindowHours).toBe(6);
  });

  it('keeps the active model when the new one is no better, unless told to activate always', async () => {
    const api = new FakeApi(world.videos, (_u, c) => c);
    api.promote = false;
    const kept = new Simulator(options(['--train-every', '2']), api.asClient(), () => undefined);
    const keptResult = await kept.run(await kept.users(async (id) => id));
    expect(keptResult.rounds.map((r) => r.model)).toEqual([null, null, null, null]);
    expect(keptResult.retrains).toEqual([{ afterRound: 3, model: 'm1', promoted: false }]);

    const forced = new Simulator(options(['--train-every', '2', '--activate-always']), api.asClient(), () => undefined);
    const result = await forced.run(await forced.users(async (id) => id));
    expect(api.activated).toEqual(['m2']);
    expect(result.rounds.map((r) => r.model)).toEqual([null, null, null, 'm2']);
  });

  it('simulates new users with the seeded tastes by default, or the seeded users with their history', async () => {
    const api = new FakeApi(world.videos, (_u, c) => c);
    const fresh = await new Simulator(options(), api.asClient(), () => undefined).users(async (id) => `token:${id}`, 'run1');
    expect(fresh[0]).toEqual(expect.objectContaining({ id: 'simrun1_u_0000001', token: 'token:simrun1_u_0000001', user: world.users[0] }));
    expect(fresh[0].history.size).toBe(0);
    const seeded = await new Simulator(options(['--seeded-ids']), api.asClient(), () => undefined).users(async (id) => id);
    expect(seeded[0].id).toBe('u_0000001');
    expect(seeded[0].history.size).toBe(10);
  });

  it('stops with a clear error when the service was seeded with other flags', async () => {
    const other = buildWorld(parseSeedArgs(['--users', '12', '--videos', '400', '--seed', '99'], 16));
    const api = new FakeApi(other.videos, (_u, c) => c);
    const sim = new Simulator(options(), api.asClient(), () => undefined);
    await expect(sim.run(await sim.users(async (id) => id))).rejects.toThrow(WorldMismatchError);
  });
});

describe('simulator pieces', () => {
  const world = buildWorld(parseSeedArgs(SMALL_WORLD, 16));

  it('sends the events a client would, in order', () => {
    const events = eventsForReaction({ videoId: 'v1' }, { watchMs: 900, complete: true, like: true, share: false, skip: false }, 'req', 1000);
    expect(events.map((e) => e.type)).toEqual(['impression', 'view', 'complete', 'like']);
    expect(events[1]).toEqual(expect.objectContaining({ watchMs: 900, requestId: 'req', videoId: 'v1' }));
    expect(new Set(events.map((e) => e.eventId)).size).toBe(4);
    const skipped = eventsForReaction({ videoId: 'v1' }, { watchMs: 100, complete: false, like: false, share: false, skip: true }, 'req', 1000);
    expect(skipped.map((e) => e.type)).toEqual(['impression', 'skip']);
  });

  it('never repeats a seen video in baseline pages; popularity follows recorded engagement', () => {
    const pop = new PopularityBaseline(world.videos);
    pop.record(world.videos[5].id, 3);
    pop.record(world.videos[9].id, 7);
    expect(pop.page(world.users[0], () => false, 2).map((v) => v.id)).toEqual([world.videos[9].id, world.videos[5].id]);
    expect(pop.page(world.users[0], (id) => id === world.videos[9].id, 1).map((v) => v.id)).toEqual([world.videos[5].id]);
    const page = new RandomBaseline(world.videos).page(world.users[0], (id) => id !== world.videos[0].id && id !== world.videos[1].id, 5, new Rng(1));
    expect(page.map((v) => v.id).sort()).toEqual([world.videos[0].id, world.videos[1].id]);
  });

  it('computes engagement per impression (liked or completed, once each) and HR@10 per page', () => {
    const stats = new ArmStats();
    const e = (like: boolean, complete: boolean) => ({ watchMs: 1, like, complete, share: false, skip: !like && !complete });
    stats.addPage([true, false, true, false], [e(true, true), e(false, false), e(false, true), e(false, false)], 4);
    stats.addPage([false, false], [e(false, false), e(false, false)], 8);
    expect(stats.summary()).toEqual(
      expect.objectContaining({ pages: 2, impressions: 6, engagementRate: 0.333, hitRateAt10: 0.25, latencyP50Ms: 6, errors: 0 }),
    );
    const everything = new ArmStats();
    everything.addPage([true, true], [e(true, true), e(true, true)]);
    expect(everything.summary().engagementRate).toBe(1);
  });

  it('treats a user with no taste for a video as no hit', () => {
    const user: SeedUser = { ...world.users[0], taste: world.videos[0].latent.map((x) => -x) };
    expect(new EngagementOracle().isRelevant(user, world.videos[0])).toBe(false);
  });

  it('routes seed flags to the seed parser and rejects bad values', () => {
    const o = parseSimulatorArgs(['--rounds', '3', '--users', '50', '--videos=600', '--url', 'http://h:1/'], ENV);
    expect(o).toEqual(expect.objectContaining({ rounds: 3, url: 'http://h:1', pageSize: 10, trainEvery: 15, roundMs: 6000, trainWindowHours: null }));
    expect(o.world).toEqual(expect.objectContaining({ users: 50, videos: 600, embeddingDim: 16, seed: 42 }));
    expect(parseSimulatorArgs([], ENV).url).toBe('http://127.0.0.1:3999');
    expect(() => parseSimulatorArgs(['--page-size', '5'], ENV)).toThrow(/page-size/);
    expect(() => parseSimulatorArgs(['--bogus', '1'], ENV)).toThrow(/bogus/);
  });

  it('draws the three panels with a retrain marker', () => {
    const arm = { pages: 1, impressions: 10, engagementRate: 0.2, hitRateAt10: 0.3, latencyP50Ms: 3, latencyP95Ms: 7, errors: 0 };
    const rounds = [1, 2, 3].map((round) => ({ round, model: null, feed: arm, random: arm, popularity: arm, ideal: arm }));
    const svg = renderChart(rounds, [{ afterRound: 2, model: 'mv_<1>', promoted: true }, { afterRound: 3, model: 'x', promoted: false }], 'sub & title\nline 2');
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toContain('Engagement rate');
    expect(svg).toContain('HR@10');
    expect(svg).toContain('Feed latency');
    expect(svg).toContain('new model mv_&lt;1&gt;');
    expect(svg).toContain('retrained, no better: kept');
    expect(svg).toContain('>sub &amp; title</text>');
    expect(svg).toContain('>line 2</text>');
    expect(svg.match(/<polyline/g)).toHaveLength(10);
  });
});
