import { Injectable, Logger } from '@nestjs/common';
import { UnrecoverableError } from 'bullmq';
import { CatalogSnapshotService } from '../catalog/catalog-snapshot.service';
import { VideoStatsChangesPublisher } from './video-stats-changes.publisher';
import { AppConfig } from '../config/app-config';
import { rethrowIfUnavailable } from '../database/database-unavailable';
import { applyUserEvent, decodeUserState } from '../features/user-state';
import { videoStatDelta } from '../features/video-stats';
import { ApplyEventsJob, toFeatureEvent } from './event-jobs';
import { FollowsRepository, initialUserState } from './follows.repository';
import { PipelineMetrics } from './events.metrics';
import { EventQueuesRepository, SplitOffEvent } from './event-queues.repository';
import { InteractionLogWriter, RefusedRow } from './interaction-log.writer';
import { queuedEventProblem } from './queued-event-check';
import { OnlineStateRepository, VideoUpdate } from './online-state.repository';
import { trendIncrements, TrendScores } from './trending';

/** Compare-and-set retries before the job fails (and is retried by the queue with backoff). */
const MAX_CAS_ATTEMPTS = 50;

export type VideoTrends = { videoId: string; trend: TrendScores | null }[];

/** What a job remembers between runs (see `apply`). */
export interface JobProgress {
  /** Seqs recorded by an earlier run whose user and video effects were applied; null otherwise. */
  resumedSeqs: number[] | null;
  record(seqs: number[]): Promise<void>;
}

const NO_PROGRESS: JobProgress = { resumedSeqs: null, record: async () => undefined };

export interface UserApplyResult {
  /** Per event of the job, its position in the user's applied order. */
  seqs: number[];
  /** How many events this run applied (0 when an earlier run already had). */
  applied: number;
}

/**
 * Applies a job's events to every piece of online state, each step idempotent, so a job
 * retried after any crash, or run twice, has its effect exactly once:
 *  1. user state: read state + applied ids (a user seen for the first time starts from
 *     the follows table), apply the new events in TS with the same `applyUserEvent`
 *     replay and training use, write back with compare-and-set that records the applied
 *     ids (and the seen set) atomically;
 *  2. video counters and trend scores: a script guarded by the job's applied marker
 *     (kept EVENTS_APPLIED_MARKER_TTL_SECONDS); then the trending sets, with absolute
 *     monotonic writes;
 *  3. the interactions log: a batched INSERT ... ON CONFLICT DO NOTHING.
 * An event that cannot be applied and logged never holds up the rest: it is checked
 * first and set aside as a dead letter of its own (see `setAsideUnfit`), and a row the
 * log refuses alone is kept with its seq (see `keepRefusedRows`).
 */
@Injectable()
export class EventApplierService {
  private readonly logger = new Logger(EventApplierService.name);

  constructor(
    private readonly state: OnlineStateRepository,
    private readonly logWriter: InteractionLogWriter,
    private readonly catalog: CatalogSnapshotService,
    private readonly config: AppConfig,
    private readonly metrics: PipelineMetrics,
    private readonly follows: FollowsRepository,
    private readonly statsChanges: VideoStatsChangesPublisher,
    private readonly queues: EventQueuesRepository,
  ) {}

  /**
   * Runs the steps. `progress` is the job's memory across runs: once the video script has
   * run, a failure in what follows is recorded there with the seqs the events got, and a
   * later run (a retry, or a dead-letter replay however much later) resumes after the
   * script instead of relying on the applied marker, which expires.
   */
  async apply(whole: ApplyEventsJob, progress: JobProgress = NO_PROGRESS): Promise<UserApplyResult> {
    // A dead letter split off its job fails at once (UnrecoverableError: no retries), keeping its reason.
    if (whole.rejected !== undefined) throw new UnrecoverableError(whole.rejected);
    const { job, unfit } = this.setAsideUnfit(whole);
    if (unfit.length > 0) {
      // Only a job of one event is its own dead letter; otherwise each unfit event becomes one.
      if (job.events.length === 0 && unfit.length === 1) throw new UnrecoverableError(unfit[0].reason);
      await this.queues.keepAsDeadLetters(whole, unfit);
    }
    if (job.events.length === 0) return { seqs: [], applied: 0 };
    const resumed = progress.resumedSeqs ?? job.appliedSeqs ?? null;
    const user = resumed ? { seqs: resumed, applied: 0 } : await this.applyToUser(job);
    const trends = resumed ? await this.currentTrends(job) : await this.applyToVideos(job);
    let refused: RefusedRow[];
    try {
      await this.writeTrending(trends);
      refused = await this.appendToLog(job, user.seqs);
    } catch (err) {
      if (!resumed) await progress.record(user.seqs).catch(() => undefined);
      throw err;
    }
    if (refused.length > 0) await this.keepRefusedRows(whole, job, user.seqs, refused);
    return user;
  }

  /** Step 3, with the seqs step 1 gave each event; returns the rows Postgres refused on their own. */
  async appendToLog(job: ApplyEventsJob, seqs: number[]): Promise<RefusedRow[]> {
    return this.logWriter.append(job.events.map((e, i) => ({ ...e, userId: job.userId, userSeq: seqs[i] }))).catch(rethrowIfUnavailable);
  }

  /** The job without the events the worker cannot apply and log (see queuedEventProblem), and those events. */
  private setAsideUnfit(job: ApplyEventsJob): { job: ApplyEventsJob; unfit: SplitOffEvent[] } {
    const unfit: SplitOffEvent[] = [];
    job.events.forEach((event, index) => {
      const reason = queuedEventProblem(job.userId, event);
      if (reason) unfit.push({ index, event, reason: `not applied: ${reason}` });
    });
    if (unfit.length === 0) return { job, unfit };
    const skip = new Set(unfit.map((u) => u.index));
    const keep = (_: unknown, i: number) => !skip.has(i);
    return {
      job: { ...job, events: job.events.filter(keep), ...(job.appliedSeqs ? { appliedSeqs: job.appliedSeqs.filter(keep) } : {}) },
      unfit,
    };
  }

  /**
   * Rows refused by Postgres although the checks passed: their events are applied online,
   * so each is kept as a dead letter that carries its seq; replaying it (once the cause
   * is fixed) only writes the row, so the online state and the log agree again.
   */
  private async keepRefusedRows(whole: ApplyEventsJob, job: ApplyEventsJob, seqs: number[], refused: RefusedRow[]): Promise<void> {
    const indexInWhole = job.events === whole.events ? null : whole.events.map((e, i) => [e, i] as const);
    const split = refused.map((r) => ({
      index: indexInWhole ? indexInWhole.find(([e]) => e === job.events[r.index])![1] : r.index,
      event: job.events[r.index],
      reason: `applied online, not logged: ${r.reason}`,
      appliedSeq: seqs[r.index],
    }));
    this.logger.error(`user ${job.userId}: ${split.length} event(s) applied but refused by the log, kept as dead letters: ${split[0].reason}`);
    await this.queues.keepAsDeadLetters(whole, split);
  }

  async applyToUser(job: ApplyEventsJob): Promise<UserApplyResult> {
    // The api checked these videos against Postgres; this worker's snapshot may not have a
    // brand-new one yet. Without it (Postgres down too) the event still applies, without its video.
    await this.catalog.loadMissing(job.events.map((e) => e.videoId)).catch(() => undefined);
    const ids = job.events.map((e) => e.eventId);
    for (let attempt = 1; ; attempt++) {
      const read = await this.state.readUser(job.userId, ids);
      const dim = this.config.EMBEDDING_DIM;
      const state = read.raw.length > 0
        ? decodeUserState(read.raw, dim)
        : initialUserState(dim, await this.follows.followsOf(job.userId).catch(rethrowIfUnavailable));
      const seqs = read.appliedSeqs.slice();
      const firstIndex = new Map<string, number>();
      const applied: { eventId: string; seq: number }[] = [];
      const seen: { videoId: string; at: number }[] = [];
      let acceptedAt = 0;
      job.events.forEach((e, i) => {
        if (seqs[i] !== null) return;
        const earlier = firstIndex.get(e.eventId);
        if (earlier !== undefined) {
          seqs[i] = seqs[earlier];
          return;
        }
        firstIndex.set(e.eventId, i);
        applyUserEvent(state, toFeatureEvent(job.userId, e), this.catalog.get(e.videoId) ?? null);
        state.version += 1;
        seqs[i] = state.version;
        applied.push({ eventId: e.eventId, seq: state.version });
        seen.push({ videoId: e.videoId, at: e.occurredAt });
        if (e.receivedAt > acceptedAt) acceptedAt = e.receivedAt;
      });
      if (applied.length === 0) return { seqs: seqs as number[], applied: 0 };

      const committed = await this.state.commitUser(job.userId, {
        expectedRaw: read.raw,
        state,
        applied,
        seen,
        acceptedAt,
        appliedAt: Date.now(),
      });
      if (committed) {
        this.observeApplied(job, firstIndex);
        return { seqs: seqs as number[], applied: applied.length };
      }
      this.metrics.casConflicts.inc();
      if (attempt >= MAX_CAS_ATTEMPTS) {
        throw new Error(`user ${job.userId}: state kept changing (${attempt} compare-and-set conflicts)`);
      }
    }
  }

  /** Step 2, the counters and trend scores; returns the trend scores of the job's videos afterwards. */
  async applyToVideos(job: ApplyEventsJob): Promise<VideoTrends> {
    const byVideo = new Map<string, VideoUpdate>();
    for (const e of job.events) {
      let update = byVideo.get(e.videoId);
      if (!update) byVideo.set(e.videoId, (update = { videoId: e.videoId, events: [] }));
      update.events.push({ trend: trendIncrements(e.type, e.occurredAt), delta: videoStatDelta(e.type, e.watchMs) });
    }
    const updates = [...byVideo.values()];
    const trends = await this.state.applyVideos(job.chunkId, updates, Date.now());
    this.statsChanges.changed(byVideo.keys());
    return updates.map((u, i) => ({ videoId: u.videoId, trend: trends[i] }));
  }

  /** The trend scores of the job's videos as they are now (to resume a job after step 2). */
  async currentTrends(job: ApplyEventsJob): Promise<VideoTrends> {
    const videoIds = [...new Set(job.events.map((e) => e.videoId))];
    const trends = await this.state.readTrends(videoIds);
    return videoIds.map((videoId, i) => ({ videoId, trend: trends[i] }));
  }

  /** End of step 2: raises the videos in the trending sets to their current scores (idempotent). */
  async writeTrending(trends: VideoTrends): Promise<void> {
    const entries: { videoId: string; trend: TrendScores }[] = [];
    for (const t of trends) if (t.trend) entries.push({ videoId: t.videoId, trend: t.trend });
    await this.state.writeTrending(entries);
  }

  private observeApplied(job: ApplyEventsJob, applied: Map<string, number>): void {
    const now = Date.now();
    let maxLag = 0;
    for (const i of applied.values()) {
      const e = job.events[i];
      const lag = Math.max(0, now - e.receivedAt);
      if (lag > maxLag) maxLag = lag;
      this.metrics.freshness.observe(lag / 1000);
      this.metrics.applied.inc({ type: e.type });
    }
    void this.state.recordFreshness(maxLag, now).catch(() => undefined);
  }
}
