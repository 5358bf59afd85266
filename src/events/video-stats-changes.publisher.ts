import { Injectable, Logger } from '@nestjs/common';
import { PubSubService } from '../redis/pubsub.service';
import { RedisKeys } from '../redis/redis-keys';
import { FlushOnShutdown } from '../lifecycle/shutdown.service';

/** The message meaning "every video": sent after a replay rebuilt the online state. */
export const ALL_VIDEOS = '*';

/** A message of the video-stats channel as its subscribers read it: the changed ids, or `all` (ALL_VIDEOS). */
export function parseVideoStatsChange(message: string): string[] | 'all' {
  return message === ALL_VIDEOS ? 'all' : message.split('\n');
}

/** Changes are gathered for this long and announced in one message. */
export const VIDEO_STATS_CHANGES_FLUSH_MS = 10;

/**
 * Tells every api which videos' online stats just changed, so their near caches drop
 * those entries and read them afresh (FEED_STATS_MAX_AGE_MS is then only the safety net
 * for a missed message). Ids changed within VIDEO_STATS_CHANGES_FLUSH_MS go out in one
 * message on the video-stats channel (newline-separated ids). Best effort: a lost
 * message only leaves an api with counts up to its max age old.
 */
@Injectable()
export class VideoStatsChangesPublisher implements FlushOnShutdown {
  private readonly logger = new Logger(VideoStatsChangesPublisher.name);
  private pending = new Set<string>();
  private timer: NodeJS.Timeout | null = null;
  private lastWarnAt = 0;

  constructor(
    private readonly pubsub: PubSubService,
    private readonly keys: RedisKeys,
  ) {}

  changed(videoIds: Iterable<string>): void {
    for (const id of videoIds) this.pending.add(id);
    if (this.pending.size > 0 && !this.timer) this.timer = setTimeout(() => void this.flush(), VIDEO_STATS_CHANGES_FLUSH_MS);
  }

  async flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.pending.size === 0) return;
    const ids = [...this.pending];
    this.pending = new Set();
    await this.pubsub.publish(this.keys.videoStatsChannel, ids.join('\n')).catch((err: Error) => {
      const now = Date.now();
      if (now - this.lastWarnAt < 60_000) return;
      this.lastWarnAt = now;
      this.logger.warn(`could not announce changed video stats (apis refresh them within FEED_STATS_MAX_AGE_MS): ${err.message}`);
    });
  }

  /** Every video's stats changed (a replay rebuilt them): each api empties its near cache. */
  async allChanged(): Promise<void> {
    this.pending = new Set([ALL_VIDEOS]);
    await this.flush();
  }

  async flushOnShutdown(): Promise<void> {
    await this.flush();
  }
}
