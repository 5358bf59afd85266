import { BadRequestException, ServiceUnavailableException } from '@nestjs/common';
import { Registry } from 'prom-client';
import { CatalogSnapshotService } from '../catalog/catalog-snapshot.service';
import { AppConfig, loadConfig } from '../config/app-config';
import { AcceptedEventsRepository } from './accepted-events.repository';
import { EventDto } from './dto/ingest-events.dto';
import { QueuedEvent } from './event-jobs';
import { EventIngestService } from './event-ingest.service';
import { EventQueuesRepository } from './event-queues.repository';
import { IngestMetrics } from './events.metrics';

/** The dedupe window as a plain set, like the Lua script: an id repeated in one call is a duplicate. */
class FakeAccepted {
  readonly ids = new Set<string>();
  failing = false;
  down = false;
  connected(): boolean {
    return !this.down;
  }
  async wereAccepted(_user: string, eventIds: string[]): Promise<boolean[]> {
    return eventIds.map((id) => this.ids.has(id));
  }
  async markAccepted(_user: string, eventIds: string[]): Promise<boolean[]> {
    if (this.failing) throw new Error('connection is closed');
    return eventIds.map((id) => (this.ids.has(id) ? false : (this.ids.add(id), true)));
  }
}

/** Two queue shards: users whose id starts with `b` are on shard 1, the others on shard 0. */
class FakeQueues {
  failing = false;
  down = false;
  /** Shards whose master is down: adds to them fail. */
  readonly failingShards = new Set<number>();
  /** While set, enqueueApply waits for it (a command sent just before Redis dropped). */
  hanging: Promise<void> | null = null;
  readonly queued: QueuedEvent[][] = [];
  shardOf(user: string): number {
    return user.startsWith('b') ? 1 : 0;
  }
  async connected(): Promise<boolean> {
    return !this.down;
  }
  async enqueueApply(user: string, events: QueuedEvent[]): Promise<void> {
    if (this.failing || this.failingShards.has(this.shardOf(user))) throw new Error('CLUSTERDOWN The cluster is down');
    if (this.hanging) await this.hanging;
    this.queued.push(events);
  }
}

/** Knows ids starting with `v`; `loadMissing` finds ids starting with `new` in "Postgres" (and records each lookup). */
const catalog = {
  isLoaded: true,
  added: new Set<string>(),
  lookups: [] as string[][],
  postgresDown: false,
  get(id: string) {
    return id.startsWith('v') || this.added.has(id) ? { id } : undefined;
  },
  async loadMissing(ids: string[]) {
    const missing = [...new Set(ids.filter((id) => !this.get(id)))];
    if (missing.length === 0) return;
    this.lookups.push(missing);
    if (this.postgresDown) throw new Error('connect ECONNREFUSED');
    for (const id of missing) if (id.startsWith('new')) this.added.add(id);
  },
};

describe(EventIngestService.name, () => {
  let accepted: FakeAccepted;
  let queues: FakeQueues;
  let service: EventIngestService;
  const config: AppConfig = loadConfig({ EVENTS_MAX_BATCH: '3', EVENTS_QUEUE_BUDGET_MS: '50' });
  const now = Date.UTC(2026, 10, 1, 12);
  const ev = (eventId: string, extra: Partial<EventDto> = {}): EventDto => ({ eventId, type: 'view', videoId: 'v1', ...extra });

  /** Moves the clock past the pause a shard gets after a failed add. */
  const pastShardCooldown = () => {
    const real = Date.now.bind(Date);
    jest.spyOn(Date, 'now').mockImplementation(() => real() + 1100);
  };

  afterEach(() => jest.restoreAllMocks());

  beforeEach(() => {
    catalog.added.clear();
    catalog.lookups = [];
    catalog.postgresDown = false;
    accepted = new FakeAccepted();
    queues = new FakeQueues();
    service = new EventIngestService(
      accepted as unknown as AcceptedEventsRepository,
      queues as unknown as EventQueuesRepository,
      catalog as unknown as CatalogSnapshotService,
      config,
      new IngestMetrics(new Registry()),
    );
  });

  it('queues new events in time order, stamped with the acceptance time, and reports duplicates', async () => {
    const early = new Date(now - 5000).toISOString();
    expect(await service.ingest('u', [ev('a'), ev('b', { occurredAt: early }), ev('a')], now)).toEqual({ accepted: 2, duplicates: 1 });
    expect(queues.queued[0].map((e) => [e.eventId, e.occurredAt, e.receivedAt])).toEqual([
      ['b', now - 5000, now],
      ['a', now, now],
    ]);
    expect(await service.ingest('u', [ev('a'), ev('c')], now)).toEqual({ accepted: 1, duplicates: 1 });
  });

  it('records nothing when the queue fails, so a retry is accepted', async () => {
    await service.ingest('u', [ev('old')], now);
    queues.failing = true;
    await expect(service.ingest('u', [ev('old'), ev('new')], now)).rejects.toBeInstanceOf(ServiceUnavailableException);
    expect([...accepted.ids]).toEqual(['old']);
    queues.failing = false;
    pastShardCooldown();
    expect(await service.ingest('u', [ev('old'), ev('new')], now)).toEqual({ accepted: 1, duplicates: 1 });
  });

  it('answers 503 without trying while either Redis connection is down, and accepts once it is back', async () => {
    for (const fake of [accepted, queues]) {
      fake.down = true;
      await expect(service.ingest('u', [ev('a')], now)).rejects.toBeInstanceOf(ServiceUnavailableException);
      fake.down = false;
    }
    expect(queues.queued).toEqual([]);
    expect(await service.ingest('u', [ev('a')], now)).toEqual({ accepted: 1, duplicates: 0 });
  });

  it('answers 503 when queueing outlasts its budget (Redis dropped mid-command), and records nothing', async () => {
    let reconnect!: () => void;
    queues.hanging = new Promise((resolve) => (reconnect = resolve));
    const started = Date.now();
    await expect(service.ingest('u', [ev('a')], now)).rejects.toBeInstanceOf(ServiceUnavailableException);
    expect(Date.now() - started).toBeLessThan(1000);
    expect(accepted.ids.size).toBe(0);
    // The job lands once Redis is back; the client's retry is queued again (deduplicated downstream).
    reconnect();
    queues.hanging = null;
    await new Promise((r) => setImmediate(r));
    pastShardCooldown();
    expect(await service.ingest('u', [ev('a')], now)).toEqual({ accepted: 1, duplicates: 0 });
    expect(queues.queued.map((batch) => batch.map((e) => e.eventId))).toEqual([['a'], ['a']]);
  });

  it('records ids only after queueing: ids left unrecorded (a crash in between) are queued again on retry', async () => {
    accepted.failing = true;
    expect(await service.ingest('u', [ev('a')], now)).toEqual({ accepted: 1, duplicates: 0 });
    accepted.failing = false;
    expect(await service.ingest('u', [ev('a')], now)).toEqual({ accepted: 1, duplicates: 0 });
    expect(queues.queued.map((batch) => batch.map((e) => e.eventId))).toEqual([['a'], ['a']]);
    expect(await service.ingest('u', [ev('a')], now)).toEqual({ accepted: 0, duplicates: 1 });
  });

  it('rejects the whole batch naming each problem: size, unknown videos, future times', async () => {
    const future = new Date(now + config.TIMESTAMP_MAX_SKEW_MS + 1000).toISOString();
    const err = await service.ingest('u', [ev('a'), ev('b', { videoId: 'x9' }), ev('c', { occurredAt: future }), ev('d')], now).catch((e) => e);
    expect(err).toBeInstanceOf(BadRequestException);
    expect(err.getResponse().message).toEqual([
      'events must contain no more than 3 elements',
      'events.1.videoId must be a known video',
      'events.2.occurredAt must not be more than 300000 ms in the future',
    ]);
    expect(accepted.ids.size).toBe(0);
    expect(queues.queued).toHaveLength(0);
  });

  it('looks up videos missing from the catalog snapshot before refusing them (a video added a moment ago)', async () => {
    expect(await service.ingest('u', [ev('a', { videoId: 'new-1' }), ev('b', { videoId: 'new-1' })], now)).toEqual({ accepted: 2, duplicates: 0 });
    expect(catalog.lookups).toEqual([['new-1']]);
    // Known now: no second lookup.
    expect(await service.ingest('u', [ev('c', { videoId: 'new-1' })], now)).toEqual({ accepted: 1, duplicates: 0 });
    expect(catalog.lookups).toHaveLength(1);
    // Not in Postgres either, or Postgres down: refused with 400, nothing queued.
    const missing = await service.ingest('u', [ev('d', { videoId: 'gone' })], now).catch((e) => e);
    expect(missing.getResponse().message).toEqual(['events.0.videoId must be a known video']);
    // Postgres down: the video could not be checked, so "retry later" (503), not 400.
    catalog.postgresDown = true;
    const down = await service.ingest('u', [ev('e', { videoId: 'new-2' })], now).catch((e) => e);
    expect(down).toBeInstanceOf(ServiceUnavailableException);
    // Known videos do not need Postgres.
    expect(await service.ingest('u', [ev('f')], now)).toEqual({ accepted: 1, duplicates: 0 });
    catalog.postgresDown = false;
    expect(queues.queued.flat().map((e) => e.eventId)).toEqual(['a', 'b', 'c', 'f']);
  });

  it("answers 503 with Retry-After only to the users of a shard that is down, at once after the first failure", async () => {
    queues.failingShards.add(1);
    const refused = await service.ingest('bob', [ev('a')], now).catch((e) => e);
    expect(refused).toBeInstanceOf(ServiceUnavailableException);
    expect(refused.getResponse()).toEqual(expect.objectContaining({ retryAfter: config.EVENTS_RETRY_AFTER_SECONDS }));
    expect(await service.ingest('alice', [ev('b')], now)).toEqual({ accepted: 1, duplicates: 0 });
    // The shard's other users are refused without waiting on Redis, until the pause is over.
    const tries = queues.queued.length;
    queues.failingShards.clear();
    await expect(service.ingest('bea', [ev('c')], now)).rejects.toBeInstanceOf(ServiceUnavailableException);
    expect(queues.queued).toHaveLength(tries);
    pastShardCooldown();
    expect(await service.ingest('bea', [ev('c')], now)).toEqual({ accepted: 1, duplicates: 0 });
    expect(await service.ingest('bob', [ev('a')], now)).toEqual({ accepted: 1, duplicates: 0 });
  });
});
