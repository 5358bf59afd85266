import { Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { DiscoveryService } from '@nestjs/core';
import { WorkerHost } from '@nestjs/bullmq';
import { FlowProducer, Queue, QueueEvents, Worker } from 'bullmq';
import { Counter, Registry } from 'prom-client';

type BullObject = Queue | Worker | QueueEvents | FlowProducer;
type Kind = 'queue' | 'worker' | 'queue_events' | 'flow_producer';

/** At most one log line per object this often; the metric counts every error. */
const LOG_EVERY_MS = 5000;
const WATCHED = Symbol('reelrank.queueErrorsWatched');

function kindOf(object: BullObject): Kind {
  if (object instanceof Worker) return 'worker';
  if (object instanceof QueueEvents) return 'queue_events';
  if (object instanceof FlowProducer) return 'flow_producer';
  return 'queue';
}

/**
 * Gives every BullMQ object an 'error' listener: one without it prints a bare stack trace
 * past the JSON log (BullMQ falls back to console.error). Objects built in code call
 * `watch`; those Nest builds (registered queues, @Processor workers) are found at bootstrap.
 */
@Injectable()
export class QueueErrors implements OnApplicationBootstrap {
  private readonly logger = new Logger('Queue');
  private readonly errors: Counter<'object' | 'queue'>;
  private readonly lastLogged = new Map<string, { at: number; suppressed: number }>();

  constructor(
    registry: Registry,
    private readonly discovery: DiscoveryService,
  ) {
    this.errors = new Counter({
      name: 'reelrank_queue_errors_total',
      help: 'Errors reported by BullMQ objects (connection losses, cluster redirections, failed background commands), by object kind and queue',
      labelNames: ['object', 'queue'],
      registers: [registry],
    });
  }

  onApplicationBootstrap(): void {
    const instances = new Set(this.discovery.getProviders().map((wrapper) => wrapper.instance as unknown));
    for (const instance of instances) {
      if (instance instanceof Queue || instance instanceof QueueEvents || instance instanceof FlowProducer) this.watch(instance);
      if (instance instanceof WorkerHost) {
        let worker: Worker | undefined;
        try {
          worker = instance.worker;
        } catch {
          worker = undefined; // a processor whose worker never started
        }
        if (worker) this.watch(worker);
      }
    }
  }

  /** Adds the listener once per object; returns the object. */
  watch<T extends BullObject>(object: T, label = 'name' in object ? object.name : 'flow'): T {
    const marked = object as T & { [WATCHED]?: boolean };
    if (marked[WATCHED]) return object;
    marked[WATCHED] = true;
    const kind = kindOf(object);
    (object as Queue).on('error', (err: Error) => this.report(kind, label, err));
    return object;
  }

  private report(kind: Kind, queue: string, err: Error): void {
    this.errors.inc({ object: kind, queue });
    const key = `${kind}:${queue}`;
    const now = Date.now();
    const last = this.lastLogged.get(key);
    if (last && now - last.at < LOG_EVERY_MS) {
      last.suppressed += 1;
      return;
    }
    const more = last?.suppressed ? ` (and ${last.suppressed} more since the last such line)` : '';
    this.logger.error(`${kind} ${queue}: ${err?.message ?? String(err)}${more}`);
    this.lastLogged.set(key, { at: now, suppressed: 0 });
  }
}
