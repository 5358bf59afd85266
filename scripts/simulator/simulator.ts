import { randomUUID } from 'node:crypto';
import { buildHistory } from '../../seed/history';
import { Rng } from '../../seed/random';
import { buildWorld, Engagement, SeedUser, SeedVideo, simulateEngagement, World } from '../../seed/world';
import { ApiClient, ClientEvent, FeedItem } from './api-client';
import { BaselineRecommender, IdealBaseline, PopularityBaseline, RandomBaseline } from './baselines';
import { RetrainMark, RoundResult } from './chart';
import { EngagementOracle } from './engagement-oracle';
import { ArmStats } from './round-stats';
import { SimulatorOptions } from './simulator-options';

export interface SimulatedUser {
  /** Who the service sees (the token subject). */
  id: string;
  /** Whose hidden taste drives the reactions. */
  user: SeedUser;
  token: string;
  rng: Rng;
  /** Videos the user watched before the run (the seeded history, for --seeded-ids). */
  history: Set<string>;
  /**
   * Each baseline's own earlier pages. A baseline is a parallel world where the user was
   * served by it all along: it never repeats itself, and what the real feed served does
   * not use up its catalog.
   */
  baselineSeen: Map<string, Set<string>>;
}

export interface SimulationResult {
  rounds: RoundResult[];
  retrains: RetrainMark[];
  /** Feed items whose id the rebuilt world does not know (videos added after seeding). */
  unknownVideos: number;
}

export class WorldMismatchError extends Error {}

const MAX_EVENTS_PER_CALL = 500;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));


/** Runs `fn` over `items` with at most `limit` in flight. */
async function forEachLimited<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await fn(items[next++]);
  });
  await Promise.all(lanes);
}

/** The events a client app would send for one reaction, in the order they happen. */
export function eventsForReaction(item: { videoId: string }, e: Engagement, requestId: string, at: number): ClientEvent[] {
  const mk = (type: string, offset: number, watchMs?: number): ClientEvent => ({
    eventId: randomUUID(),
    type,
    videoId: item.videoId,
    requestId,
    occurredAt: new Date(at + offset).toISOString(),
    ...(watchMs === undefined ? {} : { watchMs }),
  });
  const events = [mk('impression', 0), e.skip ? mk('skip', 1, e.watchMs) : mk('view', 1, e.watchMs)];
  if (e.complete) events.push(mk('complete', 2, e.watchMs));
  if (e.like) events.push(mk('like', 3));
  if (e.share) events.push(mk('share', 4));
  return events;
}

/**
 * Simulated users with hidden tastes (the seeded world's) use the real feed over
 * HTTP and react to it; random and popularity baselines are scored the same way
 * on the side. Optionally retrains the model between phases.
 */
export class Simulator {
  readonly world: World;
  private readonly videos = new Map<string, SeedVideo>();
  private readonly oracle = new EngagementOracle();
  private readonly popularity: PopularityBaseline;
  private readonly random: RandomBaseline;
  private readonly ideal: IdealBaseline;
  private readonly historySeen = new Map<string, Set<string>>();
  private unknownVideos = 0;

  constructor(
    private readonly options: SimulatorOptions,
    private readonly client: ApiClient,
    private readonly log: (line: string) => void,
  ) {
    this.world = buildWorld(options.world);
    for (const v of this.world.videos) this.videos.set(v.id, v);
    this.popularity = new PopularityBaseline(this.world.videos);
    this.random = new RandomBaseline(this.world.videos);
    this.ideal = new IdealBaseline(this.world.videos, this.oracle);
    for (const { impression, events } of buildHistory(this.world)) {
      let seen = this.historySeen.get(impression.userId);
      if (!seen) this.historySeen.set(impression.userId, (seen = new Set()));
      seen.add(impression.videoId);
      this.popularity.record(impression.videoId, events.filter((e) => e.type === 'like' || e.type === 'complete').length);
    }
  }

  /**
   * One simulated user per seeded taste (the first `simUsers`), each with its own random
   * stream. By default they are new to the service (fresh ids, no history: cold start, so
   * the run shows the feed learning them); with --seeded-ids they are the seeded users
   * themselves, with the history the service already has.
   */
  users(issueToken: (userId: string) => Promise<string>, runTag = Date.now().toString(36)): Promise<SimulatedUser[]> {
    const chosen = this.world.users.slice(0, this.options.simUsers);
    return Promise.all(
      chosen.map(async (user, i) => {
        const id = this.options.seededIds ? user.id : `sim${runTag}_${user.id}`;
        return {
          id,
          user,
          token: await issueToken(id),
          rng: new Rng((this.options.simSeed * 7919 + i + 1) >>> 0),
          history: new Set(this.options.seededIds ? (this.historySeen.get(user.id) ?? []) : []),
          baselineSeen: new Map(),
        };
      }),
    );
  }

  /**
   * Runs the rounds. Retraining happens in the background while users keep scrolling,
   * as in production: the trainer only counts an impression once its label window has
   * passed, so it learns from traffic older than that, and the new model is picked up
   * by the feed (hot swap) from the next round after the job finishes.
   */
  async run(users: SimulatedUser[]): Promise<SimulationResult> {
    const rounds: RoundResult[] = [];
    const retrains: RetrainMark[] = [];
    let training: { jobId: string; startedAt: number } | null = null;
    for (let round = 1; round <= this.options.rounds; round++) {
      const roundStarted = Date.now();
      if (training) {
        const finished = await this.finishedTraining(training.jobId, training.startedAt);
        if (finished) {
          retrains.push({ afterRound: round - 1, ...finished });
          training = null;
        }
      }
      if (!training && this.options.trainEvery > 0 && round > 1 && (round - 1) % this.options.trainEvery === 0) {
        training = { jobId: await this.client.train(this.trainWindowHours()), startedAt: Date.now() };
        this.log(`  retraining in the background (job ${training.jobId}) while users keep scrolling ...`);
      }
      const model = await this.activeModelId();
      const result = await this.runRound(round, model, users);
      rounds.push(result);
      this.log(formatRound(result));
      const rest = roundStarted + this.options.roundMs - Date.now();
      if (rest > 0 && round < this.options.rounds) await sleep(rest);
    }
    if (training) this.log(`  training job ${training.jobId} was still running at the end; see GET /v1/admin/models`);
    return { rounds, retrains, unknownVideos: this.unknownVideos };
  }

  /** Hours of log the retrain covers: from the start of the seeded history to now (or --train-window-hours). */
  private trainWindowHours(): number {
    if (this.options.trainWindowHours !== null) return this.options.trainWindowHours;
    const { now, historyDays } = this.options.world;
    const from = now.getTime() - historyDays * 86_400_000;
    return Math.min(24 * 365, Math.max(1, Math.ceil((Date.now() - from) / 3_600_000) + 1));
  }

  private async runRound(round: number, model: string | null, users: SimulatedUser[]): Promise<RoundResult> {
    const feed = new ArmStats();
    const random = new ArmStats();
    const popularity = new ArmStats();
    const ideal = new ArmStats();
    await forEachLimited(users, this.options.concurrency, async (u) => {
      await this.servePage(u, feed);
      this.scoreBaseline(u, this.popularity, popularity);
      this.scoreBaseline(u, this.random, random);
      this.scoreBaseline(u, this.ideal, ideal);
    });
    return { round, model, feed: feed.summary(), random: random.summary(), popularity: popularity.summary(), ideal: ideal.summary() };
  }

  /** One feed request and the user's reactions to it, posted back as events. */
  private async servePage(u: SimulatedUser, stats: ArmStats): Promise<void> {
    let served;
    try {
      served = await this.client.feed(u.token, this.options.pageSize);
    } catch (err) {
      stats.addError();
      this.log(`  feed error for ${u.id}: ${(err as Error).message}`);
      return;
    }
    const { page, latencyMs } = served;
    const relevant: boolean[] = [];
    const reactions: Engagement[] = [];
    const events: ClientEvent[] = [];
    // After the page was served: the trainer joins engagement to the impression it follows.
    const at = Date.now();
    page.items.forEach((item, position) => {
      const video = this.knownVideo(item);
      if (!video) {
        relevant.push(false);
        reactions.push({ watchMs: 0, complete: false, like: false, share: false, skip: true });
        return;
      }
      const e = simulateEngagement(u.user, video, u.rng);
      relevant.push(this.oracle.isRelevant(u.user, video));
      reactions.push(e);
      events.push(...eventsForReaction(item, e, page.requestId, at + position * 10));
      this.popularity.record(video.id, (e.like ? 1 : 0) + (e.complete ? 1 : 0));
    });
    stats.addPage(relevant, reactions, latencyMs);
    try {
      for (let i = 0; i < events.length; i += MAX_EVENTS_PER_CALL) {
        await this.client.postEvents(u.token, events.slice(i, i + MAX_EVENTS_PER_CALL));
      }
    } catch (err) {
      stats.addError();
      this.log(`  events error for ${u.id}: ${(err as Error).message}`);
    }
  }

  /** What the user would have done with the baseline's page instead (nothing is posted). */
  private scoreBaseline(u: SimulatedUser, baseline: BaselineRecommender, stats: ArmStats): void {
    let own = u.baselineSeen.get(baseline.name);
    if (!own) u.baselineSeen.set(baseline.name, (own = new Set()));
    const shown = own;
    const page = baseline.page(u.user, (id) => u.history.has(id) || shown.has(id), this.options.pageSize, u.rng);
    for (const v of page) shown.add(v.id);
    stats.addPage(
      page.map((v) => this.oracle.isRelevant(u.user, v)),
      page.map((v) => simulateEngagement(u.user, v, u.rng)),
    );
  }

  private knownVideo(item: FeedItem): SeedVideo | null {
    const video = this.videos.get(item.videoId);
    if (!video) {
      this.unknownVideos++;
      return null;
    }
    if (video.title !== item.title) {
      throw new WorldMismatchError(
        `video ${item.videoId} is "${item.title}" in the service but "${video.title}" in the rebuilt world: ` +
          'pass the simulator the same --users/--videos/--creators/--seed flags the database was seeded with',
      );
    }
    return video;
  }

  private async activeModelId(): Promise<string | null> {
    return (await this.client.listModels()).find((m) => m.status === 'active')?.id ?? null;
  }

  /**
   * The outcome of a training job once it has finished (null while it runs). The
   * registry activates the new version if it beats the active one (or always, with
   * --activate-always).
   */
  private async finishedTraining(jobId: string, startedAt: number): Promise<Omit<RetrainMark, 'afterRound'> | null> {
    const status = await this.client.trainingStatus(jobId);
    const secs = ((Date.now() - startedAt) / 1000).toFixed(0);
    if (status.state !== 'completed' && status.state !== 'failed') {
      if (Date.now() - startedAt < this.options.trainTimeoutMs) return null;
      this.log(`  training job ${jobId} still ${status.state} after ${secs} s; no longer waiting for it`);
      return { model: null, promoted: false };
    }
    if (status.state === 'failed' || !status.result) {
      this.log(`  training failed after ${secs} s: ${status.failedReason ?? 'no result'}; the current model stays`);
      if (/not enough/i.test(status.failedReason ?? '')) {
        this.log('  (an impression counts once TRAIN_LABEL_WINDOW_MINUTES have passed; npm run demo sets 1 minute)');
      }
      return { model: null, promoted: false };
    }
    const { modelId, promoted, decision } = status.result;
    if (!promoted && this.options.activateAlways) await this.client.activate(modelId);
    const active = promoted || this.options.activateAlways;
    this.log(`  model ${modelId} trained in ${secs} s: ${decision}${active ? '; now serving' : '; the current model stays'}`);
    return { model: modelId, promoted: active };
  }
}

const pct = (x: number) => `${(x * 100).toFixed(1)}%`.padStart(6);

export function formatRound(r: RoundResult): string {
  const lat = r.feed.latencyP50Ms === null ? 'n/a' : `${r.feed.latencyP50Ms.toFixed(1)}/${r.feed.latencyP95Ms!.toFixed(1)} ms`;
  return (
    `round ${String(r.round).padStart(3)} | feed eng ${pct(r.feed.engagementRate)} HR@10 ${pct(r.feed.hitRateAt10)} p50/p95 ${lat}` +
    ` | popularity ${pct(r.popularity.engagementRate)} ${pct(r.popularity.hitRateAt10)}` +
    ` | random ${pct(r.random.engagementRate)} ${pct(r.random.hitRateAt10)}` +
    ` | ideal ${pct(r.ideal.engagementRate)} ${pct(r.ideal.hitRateAt10)}` +
    ` | model ${r.model ?? 'none'}${r.feed.errors ? ` | ${r.feed.errors} errors` : ''}`
  );
}
