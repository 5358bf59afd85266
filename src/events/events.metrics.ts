import { Injectable } from '@nestjs/common';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { EventQueuesRepository } from './event-queues.repository';

/** Ingest metrics (api process). */
@Injectable()
export class IngestMetrics {
  readonly events: Counter<'outcome'>;

  constructor(registry: Registry) {
    this.events = new Counter({
      name: 'reelrank_events_ingested_total',
      help: 'Events received by POST /v1/events, by outcome (accepted, duplicate, unavailable)',
      labelNames: ['outcome'],
      registers: [registry],
    });
  }
}

/** Event-processing metrics (worker process). */
@Injectable()
export class PipelineMetrics {
  readonly freshness: Histogram;
  readonly applied: Counter<'type'>;
  readonly jobSeconds: Histogram;
  readonly queueWait: Histogram;
  readonly casConflicts: Counter;
  readonly logged: Counter;
  readonly deadLetters: Counter<'queue'>;
  readonly deferred: Counter<'reason'>;
  readonly workersReplaced: Counter<'queue'>;

  constructor(registry: Registry, queues: EventQueuesRepository) {
    this.freshness = new Histogram({
      name: 'reelrank_event_freshness_seconds',
      help: "Time from an event's acceptance by the api to its user's online features being updated",
      buckets: [0.002, 0.005, 0.01, 0.015, 0.02, 0.03, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    });
    this.applied = new Counter({
      name: 'reelrank_events_applied_total',
      help: 'Events applied to online user state (each counted once, however often its job ran)',
      labelNames: ['type'],
      registers: [registry],
    });
    this.jobSeconds = new Histogram({
      name: 'reelrank_event_job_seconds',
      help: 'Processing time of one events job (a batch of one user\'s events)',
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5],
      registers: [registry],
    });
    this.queueWait = new Histogram({
      name: 'reelrank_event_queue_wait_seconds',
      help: 'Time an events job waited in the queue before a worker started it (queue lag)',
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5, 30],
      registers: [registry],
    });
    this.casConflicts = new Counter({
      name: 'reelrank_user_state_conflicts_total',
      help: 'Compare-and-set conflicts on user state (concurrent jobs of one user); each was retried',
      registers: [registry],
    });
    this.logged = new Counter({
      name: 'reelrank_interactions_logged_total',
      help: 'Rows inserted into the interactions log (duplicates skipped by the unique index are not counted)',
      registers: [registry],
    });
    this.deadLetters = new Counter({
      name: 'reelrank_dead_letters_total',
      help: 'Jobs that failed their last attempt and were kept as dead letters',
      labelNames: ['queue'],
      registers: [registry],
    });
    this.deferred = new Counter({
      name: 'reelrank_event_jobs_deferred_total',
      help: 'Events jobs put back to wait for an unavailable dependency, without using up an attempt',
      labelNames: ['reason'],
      registers: [registry],
    });
    this.workersReplaced = new Counter({
      name: 'reelrank_event_workers_replaced_total',
      help: 'Events shard workers replaced because they took no job for 30 s while jobs waited (a blocking read stuck on a dead connection)',
      labelNames: ['queue'],
      registers: [registry],
    });
    new Gauge({
      name: 'reelrank_queue_jobs',
      help: 'Jobs in each queue by state (waiting + delayed + prioritized is the backlog; failed are the dead letters), read at scrape time',
      labelNames: ['queue', 'state'],
      registers: [registry],
      async collect() {
        for (const [queue, counts] of Object.entries(await queues.jobCounts())) {
          for (const [state, n] of Object.entries(counts)) this.set({ queue, state }, n);
        }
      },
    });
    new Gauge({
      name: 'reelrank_event_shard_backlog',
      help: 'Jobs waiting (waiting + delayed + prioritized) per events queue shard, read at scrape time; one growing alone is a shard whose master or workers are away',
      labelNames: ['queue'],
      registers: [registry],
      async collect() {
        for (const [queue, n] of Object.entries(await queues.shardBacklogs())) this.set({ queue }, n);
      },
    });
    new Gauge({
      name: 'reelrank_dead_letters',
      help: 'Dead letters waiting to be replayed (npm run dlq:replay), per queue',
      labelNames: ['queue'],
      registers: [registry],
      async collect() {
        for (const [queue, n] of Object.entries(await queues.deadLetterCounts())) this.set({ queue }, n);
      },
    });
  }
}
