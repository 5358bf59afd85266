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

/**
 * The shutdown order of both processes. Nest runs, on SIGTERM/SIGINT or app.close():
 * onModuleDestroy, then beforeApplicationShutdown (this service), then closes the
 * HTTP server, then onApplicationShutdown (where BullMQ, Redis and TypeORM close
 * their connections, in an order Nest does not promise). So here, while every
 * connection is still open:
 *  1. readiness turns 503 (`isDraining`) and, with SHUTDOWN_DRAIN_DELAY_MS, the api
 *     keeps serving that long so load balancers stop sending new requests;
 *  2. the HTTP server stops accepting connections and answers the requests in flight;
 *  3. BullMQ workers stop taking jobs and finish the ones they are running;
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
    const http = this.adapterHost.httpAdapter;
    if (http?.getHttpServer()?.listening) {
      if (this.config.SHUTDOWN_DRAIN_DELAY_MS > 0) {
        this.logger.log(`draining: not ready, still serving for ${this.config.SHUTDOWN_DRAIN_DELAY_MS} ms`);
        await sleep(this.config.SHUTDOWN_DRAIN_DELAY_MS);
      }
      await http.close();
    }
    const workers = this.workerHosts();
    await Promise.all(workers.map((host) => host.worker.close()));
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

function hasWorker(host: WorkerHost): boolean {
  try {
    return Boolean(host.worker);
  } catch {
    return false; // a processor whose worker never started
  }
}
