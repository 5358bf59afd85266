import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown, Optional } from '@nestjs/common';
import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { Registry } from 'prom-client';
import { AppConfig } from '../config/app-config';

/** Provide it to listen on another port than WORKER_METRICS_PORT (the api's METRICS_PORT). */
export const METRICS_SERVER_PORT = Symbol('METRICS_SERVER_PORT');

/**
 * GET /metrics on a small HTTP port of its own: for processes without the api's HTTP
 * server (the worker, the stream consumer), and for the api when METRICS_PORT keeps
 * metrics off its public port.
 */
@Injectable()
export class MetricsServer implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(MetricsServer.name);
  private server: Server | null = null;

  constructor(
    private readonly registry: Registry,
    private readonly config: AppConfig,
    @Optional() @Inject(METRICS_SERVER_PORT) private readonly listenPort: number = config.WORKER_METRICS_PORT,
  ) {}

  /** The port it listens on (null when disabled). */
  get port(): number | null {
    return (this.server?.address() as AddressInfo | null)?.port ?? null;
  }

  async onApplicationBootstrap(): Promise<void> {
    if (this.listenPort === 0) return;
    const server = createServer((req, res) => {
      if (req.method !== 'GET' || req.url?.split('?')[0] !== '/metrics') {
        res.writeHead(404).end();
        return;
      }
      this.registry.metrics().then(
        (body) => res.writeHead(200, { 'Content-Type': this.registry.contentType }).end(body),
        (err: Error) => res.writeHead(500).end(err.message),
      );
    });
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(this.listenPort, this.config.HOST, () => resolve());
      });
    } catch (err) {
      // The process's real work (the queues) matters more than its metrics port.
      this.logger.error(`metrics not served: cannot listen on ${this.config.HOST}:${this.listenPort}: ${(err as Error).message}`);
      return;
    }
    this.server = server;
    this.logger.log(`metrics on http://${this.config.HOST}:${this.port}/metrics`);
  }

  async onApplicationShutdown(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
