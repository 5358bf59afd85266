import { BadRequestException, Injectable, Logger, ServiceUnavailableException } from '@nestjs/common';
import { withDeadline } from '../common/deadline';
import { instantProblem, parseTimestamp } from '../common/validation';
import { CatalogSnapshotService } from '../catalog/catalog-snapshot.service';
import { AppConfig } from '../config/app-config';
import { AcceptedEventsRepository } from './accepted-events.repository';
import { EventDto, IngestEventsResponseDto } from './dto/ingest-events.dto';
import { QueuedEvent } from './event-jobs';
import { EventQueuesRepository } from './event-queues.repository';
import { IngestMetrics } from './events.metrics';

/**
 * POST /v1/events: checks what the DTO cannot (batch size from config,
 * known videos), drops event ids the user already had accepted, queues the rest and
 * answers only once they are safely queued; the ids are recorded for dedupe after that,
 * so a failure or a crash before it leaves the retry free to queue them again: nothing
 * accepted is lost, nothing lost is claimed. While Redis is not connected the answer is
 * an immediate 503: the client's commands would otherwise wait for the reconnection,
 * holding the request for as long as Redis is away. Commands already sent when the
 * connection drops get EVENTS_QUEUE_BUDGET_MS, then a 503 too. Outages are per user: a
 * user's dedupe keys are in their slot and their jobs on their queue shard, so a Redis
 * Cluster master that is down refuses only the users whose slot or shard it holds. Every
 * 503 carries Retry-After (EVENTS_RETRY_AFTER_SECONDS).
 */
/**
 * After an add to a shard failed, that shard's users get their 503 at once for this long
 * instead of each holding a request for EVENTS_QUEUE_BUDGET_MS; then the next one tries.
 */
const SHARD_COOLDOWN_MS = 1000;

@Injectable()
export class EventIngestService {
  private readonly logger = new Logger(EventIngestService.name);
  private lastUnavailableLog = 0;
  private unloggedUnavailable = 0;
  /** Per shard, until when its users are refused at once after a failed add (see SHARD_COOLDOWN_MS). */
  private readonly shardDownUntil = new Map<number, number>();

  constructor(
    private readonly accepted: AcceptedEventsRepository,
    private readonly queues: EventQueuesRepository,
    private readonly catalog: CatalogSnapshotService,
    private readonly config: AppConfig,
    private readonly metrics: IngestMetrics,
  ) {}

  async ingest(userId: string, events: EventDto[], now = Date.now()): Promise<IngestEventsResponseDto> {
    await this.loadUnknownVideos(events);
    const queued = this.toQueued(events, now);
    const shard = this.queues.shardOf(userId);
    if ((this.shardDownUntil.get(shard) ?? 0) > Date.now()) {
      throw this.unavailable(events.length, new Error(`event queue shard ${shard} failed less than ${SHARD_COOLDOWN_MS} ms ago`));
    }
    if (!this.accepted.connected() || !(await this.queues.connected(userId))) {
      throw this.unavailable(events.length, new Error('redis is not connected'));
    }
    let known: boolean[];
    try {
      known = await this.withinBudget(this.accepted.wereAccepted(userId, queued.map((e) => e.eventId), now), 'checking event ids');
    } catch (err) {
      throw this.unavailable(events.length, err as Error);
    }
    const ids = new Set<string>();
    const accepted = queued.filter((e, i) => {
      if (known[i] || ids.has(e.eventId)) return false;
      ids.add(e.eventId);
      return true;
    });
    if (accepted.length > 0) {
      try {
        // Past the budget the answer is 503 even though the job may still be queued once
        // Redis is back: the client's retry is then deduplicated by event id downstream.
        await this.withinBudget(this.queues.enqueueApply(userId, accepted), `queueing events on shard ${shard}`);
      } catch (err) {
        this.shardDownUntil.set(shard, Date.now() + SHARD_COOLDOWN_MS);
        throw this.unavailable(events.length, err as Error);
      }
      this.shardDownUntil.delete(shard);
      // Ids are recorded only once their events are queued: a crash in between leaves them
      // unrecorded, so the client's retry (or the broker's redelivery) queues them again and
      // the worker applies them once. Recording first would turn that retry into a "duplicate"
      // and lose the events.
      await this.accepted.markAccepted(userId, [...ids], now).catch((err: Error) => {
        this.logger.warn(`queued ${accepted.length} events of ${userId} but could not record their ids for dedupe: ${err.message}`);
      });
    }
    const duplicates = events.length - accepted.length;
    this.metrics.events.inc({ outcome: 'accepted' }, accepted.length);
    if (duplicates > 0) this.metrics.events.inc({ outcome: 'duplicate' }, duplicates);
    return { accepted: accepted.length, duplicates };
  }

  /**
   * A video added a moment ago may not have reached this process's catalog yet (it
   * arrives by pub/sub): before refusing events for videos it does not know, ask
   * Postgres for them (see loadMissing). If Postgres cannot answer, the batch gets a 503.
   */
  private async loadUnknownVideos(events: EventDto[]): Promise<void> {
    if (events.length > this.config.EVENTS_MAX_BATCH) return;
    try {
      await this.catalog.loadMissing(events.map((e) => e.videoId));
    } catch (err) {
      // Could not check: a video still unknown may exist, so the answer is "retry" (503), not 400.
      if (events.some((e) => !this.catalog.get(e.videoId))) {
        throw this.unavailable(events.length, new Error(`looking up videos missing from the catalog snapshot: ${(err as Error).message}`));
      }
    }
  }

  /** Checks the batch against config and catalog, and stamps each event; events come back in time order. */
  private toQueued(events: EventDto[], now: number): QueuedEvent[] {
    const problems: string[] = [];
    if (events.length > this.config.EVENTS_MAX_BATCH) {
      problems.push(`events must contain no more than ${this.config.EVENTS_MAX_BATCH} elements`);
    }
    const checkVideos = this.catalog.isLoaded;
    const queued = events.map((e, i): QueuedEvent => {
      // Checked by the DTO already; again here so no caller can queue an event the worker would refuse.
      const occurredAt = e.occurredAt === undefined ? now : (parseTimestamp(e.occurredAt) ?? NaN);
      const timeProblem = instantProblem(occurredAt, now);
      if (timeProblem) problems.push(`events.${i}.occurredAt ${timeProblem}`);
      if (checkVideos && !this.catalog.get(e.videoId)) problems.push(`events.${i}.videoId must be a known video`);
      return {
        eventId: e.eventId,
        videoId: e.videoId,
        type: e.type,
        watchMs: e.watchMs ?? null,
        requestId: e.requestId ?? null,
        occurredAt,
        receivedAt: now,
      };
    });
    if (problems.length > 0) throw new BadRequestException(problems);
    return queued.sort((a, b) => a.occurredAt - b.occurredAt);
  }

  private withinBudget<T>(work: Promise<T>, what: string): Promise<T> {
    const ms = this.config.EVENTS_QUEUE_BUDGET_MS;
    return withDeadline(work, ms, () => new Error(`redis did not answer within ${ms} ms (${what})`));
  }

  /** Counts the refused events; logs at most one error every 10 s during an outage. */
  private unavailable(count: number, err: Error): ServiceUnavailableException {
    this.metrics.events.inc({ outcome: 'unavailable' }, count);
    const now = Date.now();
    if (now - this.lastUnavailableLog >= 10_000) {
      const more = this.unloggedUnavailable > 0 ? ` (and ${this.unloggedUnavailable} more requests since the last such line)` : '';
      this.logger.error(`events not accepted: ${err.message}${more}`);
      this.lastUnavailableLog = now;
      this.unloggedUnavailable = 0;
    } else {
      this.unloggedUnavailable += 1;
    }
    return new ServiceUnavailableException({
      message: 'events could not be queued; retry later',
      retryAfter: this.config.EVENTS_RETRY_AFTER_SECONDS,
    });
  }
}
