import { BeforeApplicationShutdown, Injectable, Logger } from '@nestjs/common';
import { DiscoveryService, HttpAdapterHost } from '@nestjs/core';
import { WorkerHost } from '@nestjs/bullmq';
import { setTimeout as sleep } from 'node:timers/promises';
import { AppConfig } from '../config/app-config';

/**
 * Implement on a provider that holds writes in memory (a batched log writer, an
 * impression buffer): `flushOnShutdown` is called once on shutdown, after the HTTP
 * server has answered its last request and the BullMQ workers have finished their
 * current jobs, and before Postgres, Redis and the queues are closed.
 */
export interface FlushOnShutdown {
  flushOnShutdown(): Promise<void>;
}

function canFlush(instance: unknown): instance is FlushOnShutdown {
  return typeof (instance as Partial<FlushOnShutdown> | null)?.flushOnShutdown === 'function';
}

/** What shutdown needs of a BullMQ worker. */
export interface ClosableWorker {
  readonly name: string;
  close(): Promise<void>;
}

/**
 * Implement on a provider that builds its own BullMQ workers (a @Processor's WorkerHost is
 * found without it): `stopWorkers` is called once at step 3 and returns the workers to
 * close with the others, before anything is flushed; from then on it starts no new ones.
 */
export interface WorkersOnShutdown {
  stopWorkers(): ClosableWorker[];
}

function hasWorkers(instance: unknown): instance is WorkersOnShutdown {
  return typeof (instance as Partial<WorkersOnShutdown> | null)?.stopWorkers === 'function';
}

/**
 * The shutdown order of both processes. Nest runs, on SIGTERM/SIGINT or app.close():
 * onModuleDestroy, then beforeApplicationShutdown (this service), then closes the
 * HTTP server, then onApplicationShutdown (where BullMQ, Redis and TypeORM close
 * their connections, in an order Nest does not promise). So here, while every
 * connection is still open:
 *  1. readiness turns 503 (`isDraining`) and, with SHUTDOWN_DRAIN_DELAY_MS, the api
 *     keeps serving that long so load balancers stop sending new requests;
 *  2. the HTTP server stops accepting connections and answers the requests in flight;
 *  3. BullMQ workers (WorkerHosts, and those of WorkersOnShutdown providers) stop taking
 *     jobs and finish the ones they are running, for at most half of SHUTDOWN_TIMEOUT_MS
 *     from the signal: a worker still closing then (a long job, or a fetch waiting on a
 *     Redis Cluster master that is down, on the connection the workers share) is left to
 *     end when its connections close, and the shutdown goes on;
 *  4. every provider implementing FlushOnShutdown flushes its buffer.
 * A shutdown taking longer than SHUTDOWN_TIMEOUT_MS ends the process with code 1.
 * Do not close connections or flush in onModuleDestroy: requests are still running then.
 */
@Injectable()
export class ShutdownService implements BeforeApplicationShutdown {
  private readonly logger = new Logger('Shutdown');
  private draining = false;

  constructor(
    private readonly config: AppConfig,
    private readonly discovery: DiscoveryService,
    private readonly adapterHost: HttpAdapterHost,
  ) {}

  /** True once shutdown has begun: the process should get no new work. */
  get isDraining(): boolean {
    return this.draining;
  }

  async beforeApplicationShutdown(signal?: string): Promise<void> {
    this.draining = true;
    if (signal) this.armWatchdog(signal);
    const started = Date.now();
    const workersBy = started + Math.max(1000, this.config.SHUTDOWN_TIMEOUT_MS / 2);
    const http = this.adapterHost.httpAdapter;
    if (http?.getHttpServer()?.listening) {
      if (this.config.SHUTDOWN_DRAIN_DELAY_MS > 0) {
        this.logger.log(`draining: not ready, still serving for ${this.config.SHUTDOWN_DRAIN_DELAY_MS} ms`);
        await sleep(this.config.SHUTDOWN_DRAIN_DELAY_MS);
      }
      await http.close();
    }
    const workers = [...this.workerHosts().map((host) => host.worker), ...this.instances().filter(hasWorkers).flatMap((owner) => owner.stopWorkers())];
    const open = await closeWithin(workers, workersBy - Date.now());
    if (open.length > 0) {
      this.logger.warn(`${open.length} queue worker(s) still closing after ${Date.now() - started} ms (${open.join(', ')}): going on, they end when their connections close`);
    }
    const writers = this.instances().filter(canFlush);
    const results = await Promise.allSettled(writers.map((writer) => writer.flushOnShutdown()));
    for (const result of results) {
      if (result.status === 'rejected') this.logger.error(`flush on shutdown failed: ${(result.reason as Error)?.stack ?? result.reason}`);
    }
    this.logger.log(
      `stopped taking work${signal ? ` (${signal})` : ''}: ${workers.length} queue worker(s) closed, ` +
        `${writers.length} writer(s) flushed in ${Date.now() - started} ms`,
    );
  }

  private workerHosts(): WorkerHost[] {
    return this.instances().filter((instance): instance is WorkerHost => instance instanceof WorkerHost && hasWorker(instance));
  }

  private instances(): unknown[] {
    return [...new Set(this.discovery.getProviders().map((wrapper) => wrapper.instance as unknown))];
  }

  private armWatchdog(signal: string): void {
    setTimeout(() => {
      this.logger.error(`shutdown after ${signal} took longer than ${this.config.SHUTDOWN_TIMEOUT_MS} ms: exiting`);
      process.exit(1);
    }, this.config.SHUTDOWN_TIMEOUT_MS).unref();
  }
}

/**
 * Closes the workers, waiting at most `ms`; resolves with the names of those still
 * closing then. A close that fails counts as done (the worker takes no more jobs).
 */
export async function closeWithin(workers: readonly ClosableWorker[], ms: number): Promise<string[]> {
  const open = new Set(workers);
  const closing = workers.map((worker) =>
    worker.close().then(
      () => open.delete(worker),
      () => open.delete(worker),
    ),
  );
  const timer = new AbortController();
  await Promise.race([Promise.all(closing), sleep(Math.max(0, ms), undefined, { signal: timer.signal }).catch(() => undefined)]);
  timer.abort();
  return [...open].map((worker) => worker.name);
}

function hasWorker(host: WorkerHost): boolean {
  try {
    return Boolean(host.worker);
  } catch {
    return false; // a processor whose worker never started
  }
}
