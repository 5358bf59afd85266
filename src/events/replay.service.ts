import { Injectable, Logger } from '@nestjs/common';
import { CatalogSnapshotService } from '../catalog/catalog-snapshot.service';
import { AppConfig } from '../config/app-config';
import { applyUserEvent } from '../features/user-state';
import { applyVideoStatDelta, emptyVideoStats, VideoStats, videoStatDelta } from '../features/video-stats';
import { AcceptedEventsRepository } from './accepted-events.repository';
import { FollowsRepository, initialUserState } from './follows.repository';
import { InteractionLogRepository, LogRow } from './interaction-log.repository';
import { OnlineStateRepository } from './online-state.repository';
import { VideoStatsChangesPublisher } from './video-stats-changes.publisher';
import { addTrend, trendIncrements, TRENDING_WINDOWS, TrendScores } from './trending';

export interface ReplayReport {
  events: number;
  users: number;
  videos: number;
  keysCleared: number;
  ms: number;
  /** Time spent clearing old keys, reading and applying the log (with the user writes), and writing video state. */
  phasesMs: { clear: number; users: number; videos: number };
}

/** Users whose writes are in flight at once. */
const USER_WRITE_BATCH = 500;

/**
 * Applies a user's events in the order the live worker applied them: by the recorded
 * `user_seq`, rows never applied online (seeded history) first, in time order.
 */
export function liveOrder(a: LogRow, b: LogRow): number {
  if (a.userSeq !== b.userSeq) {
    if (a.userSeq === null) return -1;
    if (b.userSeq === null) return 1;
    return a.userSeq - b.userSeq;
  }
  if (a.occurredAt !== b.occurredAt) return a.occurredAt - b.occurredAt;
  return a.id.length - b.id.length || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

/**
 * Rebuilds all the event pipeline's Redis state from the Postgres interactions log (for
 * a lost or new Redis) with the same functions the live worker uses, so the result is
 * what the live path produced: user states, applied ids, seen sets, the dedupe window,
 * video counters, trend scores and the trending sets.
 *
 * The log is read in (user, time) pages; each user's events are applied together (user
 * states are independent), video counters and trend scores are sums, so their order
 * does not matter. Run it with the workers stopped.
 */
@Injectable()
export class ReplayService {
  private readonly logger = new Logger(ReplayService.name);

  constructor(
    private readonly log: InteractionLogRepository,
    private readonly follows: FollowsRepository,
    private readonly state: OnlineStateRepository,
    private readonly accepted: AcceptedEventsRepository,
    private readonly catalog: CatalogSnapshotService,
    private readonly config: AppConfig,
    private readonly statsChanges: VideoStatsChangesPublisher,
  ) {}

  async rebuild(options: { pageSize?: number; now?: number } = {}): Promise<ReplayReport> {
    const started = Date.now();
    const pageSize = options.pageSize ?? 20_000;
    const now = options.now ?? Date.now();
    const keysCleared = await this.state.clearOwnedKeys();
    const cleared = Date.now();
    const follows = await this.follows.allFollows();
    const videos = new Map<string, { stats: VideoStats; trend: TrendScores | null }>();
    let users = 0;
    let events = 0;
    let writes: Promise<void>[] = [];
    const flushUser = async (rows: LogRow[]) => {
      writes.push(this.rebuildUser(rows, follows.get(rows[0].userId) ?? [], videos, now));
      users++;
      events += rows.length;
      if (writes.length >= USER_WRITE_BATCH) {
        await Promise.all(writes);
        writes = [];
      }
    };

    let current: LogRow[] = [];
    let next = this.log.page(null, pageSize);
    for (;;) {
      const page = await next;
      if (page.rows.length === pageSize && page.next) next = this.log.page(page.next, pageSize);
      for (const row of page.rows) {
        if (current.length > 0 && current[0].userId !== row.userId) {
          await flushUser(current);
          current = [];
        }
        current.push(row);
      }
      if (page.rows.length < pageSize || !page.next) break;
    }
    if (current.length > 0) await flushUser(current);
    await Promise.all(writes);
    const usersDone = Date.now();

    await this.writeVideos(videos);
    await this.statsChanges.allChanged();
    const end = Date.now();
    const report = {
      events,
      users,
      videos: videos.size,
      keysCleared,
      ms: end - started,
      phasesMs: { clear: cleared - started, users: usersDone - cleared, videos: end - usersDone },
    };
    this.logger.log(`replayed ${events} events of ${users} users over ${videos.size} videos in ${report.ms} ms`);
    return report;
  }

  private async rebuildUser(
    rows: LogRow[],
    follows: string[],
    videos: Map<string, { stats: VideoStats; trend: TrendScores | null }>,
    now: number,
  ): Promise<void> {
    rows.sort(liveOrder);
    const userId = rows[0].userId;
    const state = initialUserState(this.config.EMBEDDING_DIM, follows);
    const applied: { eventId: string; seq: number }[] = [];
    const seenAt = new Map<string, number>();
    const acceptedSince = now - this.config.EVENTS_DEDUPE_TTL_SECONDS * 1000;
    const recent: { eventId: string; receivedAt: number }[] = [];
    for (const row of rows) {
      applyUserEvent(state, row, this.catalog.get(row.videoId) ?? null);
      state.version += 1;
      applied.push({ eventId: row.eventId, seq: state.version });
      const at = seenAt.get(row.videoId);
      if (at === undefined || row.occurredAt > at) seenAt.set(row.videoId, row.occurredAt);
      if (row.receivedAt >= acceptedSince) recent.push({ eventId: row.eventId, receivedAt: row.receivedAt });

      let video = videos.get(row.videoId);
      if (!video) videos.set(row.videoId, (video = { stats: emptyVideoStats(), trend: null }));
      applyVideoStatDelta(video.stats, videoStatDelta(row.type, row.watchMs));
      const inc = trendIncrements(row.type, row.occurredAt);
      if (inc) video.trend = addTrend(video.trend, inc);
    }
    // The live seen set keeps the USER_SEEN_MAX highest (time, videoId) entries.
    const seen = [...seenAt.entries()]
      .map(([videoId, at]) => ({ videoId, at }))
      .sort((a, b) => a.at - b.at || (a.videoId < b.videoId ? -1 : a.videoId > b.videoId ? 1 : 0))
      .slice(-this.config.USER_SEEN_MAX);
    await Promise.all([this.state.writeRebuiltUser(userId, state, applied, seen), this.accepted.restore(userId, recent)]);
  }

  private async writeVideos(videos: Map<string, { stats: VideoStats; trend: TrendScores | null }>): Promise<void> {
    let batch: Promise<void>[] = [];
    for (const [videoId, v] of videos) {
      batch.push(this.state.writeRebuiltVideo(videoId, v.stats, v.trend));
      if (batch.length >= 2000) {
        await Promise.all(batch);
        batch = [];
      }
    }
    await Promise.all(batch);
    for (const [i, window] of TRENDING_WINDOWS.entries()) {
      const entries: { videoId: string; score: number }[] = [];
      for (const [videoId, v] of videos) if (v.trend) entries.push({ videoId, score: v.trend[i] });
      entries.sort((a, b) => b.score - a.score || (a.videoId < b.videoId ? 1 : a.videoId > b.videoId ? -1 : 0));
      await this.state.writeRebuiltTrending(window, entries.slice(0, this.config.TRENDING_MAX));
    }
  }
}
