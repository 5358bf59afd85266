import { Injectable, Logger } from '@nestjs/common';

/**
 * Boot work the api must finish before it takes traffic (the ANN index build, which runs
 * after the HTTP server is up). `/health/ready` stays 503 while any is pending, so a load
 * balancer or a benchmark sends requests only to a warm process.
 */
@Injectable()
export class WarmupService {
  private readonly logger = new Logger('Warmup');
  private readonly pending = new Set<string>();

  /** Counts `name` as pending until `work` settles (a failure ends the warm-up too: the feed has a fallback for each). */
  track(name: string, work: Promise<unknown>): void {
    this.pending.add(name);
    const started = Date.now();
    void work
      .catch(() => undefined)
      .finally(() => {
        this.pending.delete(name);
        this.logger.log(`${name} warm after ${Date.now() - started} ms`);
      });
  }

  /** Names of the boot work still running; empty once warm. */
  get waitingFor(): string[] {
    return [...this.pending];
  }
}
