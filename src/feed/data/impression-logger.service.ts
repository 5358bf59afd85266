import { Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { AppConfig } from '../../config/app-config';
import { isDatabaseUnavailable } from '../../database/database-unavailable';
import { ImpressionRow } from '../support/impression-copy';
import { ImpressionRepository } from './impression.repository';

const BATCH_MAX = 5000;
/** Beyond this many unwritten rows (Postgres down for long), the oldest are dropped and counted. */
const BUFFER_MAX = 500_000;
const SHUTDOWN_DEADLINE_MS = 15_000;
const RETRY_MAX_MS = 30_000;

/**
 * Writes feed impressions to Postgres off the request path: requests append rows to
 * an in-memory buffer; a timer flushes it in batches (ImpressionRepository: COPY,
 * idempotent). Batches that fail are retried with backoff, except for rows Postgres
 * refuses on their own: those are dropped and counted, the rest written. On shutdown,
 * after the HTTP server has stopped, everything buffered is flushed.
 */
@Injectable()
export class ImpressionLogger implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(ImpressionLogger.name);
  private buffer: ImpressionRow[] = [];
  private timer: NodeJS.Timeout | null = null;
  private flushing: Promise<void> | null = null;
  private retryAt = 0;
  private retryDelay = 0;
  private readonly written: Counter;
  private readonly dropped: Counter<'reason'>;
  private readonly buffered: Gauge;
  private readonly flushSeconds: Histogram;

  constructor(
    private readonly config: AppConfig,
    registry: Registry,
    private readonly repository: ImpressionRepository = new ImpressionRepository(config),
  ) {
    this.written = new Counter({ name: 'reelrank_impressions_written_total', help: 'Impressions written to Postgres', registers: [registry] });
    this.dropped = new Counter({
      name: 'reelrank_impressions_dropped_total',
      help: 'Impressions not written: buffer_full (Postgres away too long), shutdown (still unwritten at exit), refused (a row Postgres rejected)',
      labelNames: ['reason'],
      registers: [registry],
    });
    this.buffered = new Gauge({
      name: 'reelrank_impressions_buffered',
      help: 'Impressions waiting to be written',
      registers: [registry],
      collect: () => this.buffered.set(this.buffer.length),
    });
    this.flushSeconds = new Histogram({
      name: 'reelrank_impressions_flush_seconds',
      help: 'Duration of one impression batch write',
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5],
      registers: [registry],
    });
  }

  onModuleInit(): void {
    this.timer = setInterval(() => void this.flush(), this.config.IMPRESSION_FLUSH_MS);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    const deadline = Date.now() + SHUTDOWN_DEADLINE_MS;
    while (this.buffer.length > 0 && Date.now() < deadline) {
      this.retryAt = 0;
      await this.flush();
      if (this.buffer.length > 0) await new Promise((r) => setTimeout(r, 200));
    }
    if (this.buffer.length > 0) {
      this.logger.error(`shutting down with ${this.buffer.length} impressions unwritten (Postgres unavailable)`);
      this.dropped.inc({ reason: 'shutdown' }, this.buffer.length);
    }
    await this.repository.close();
  }

  /** Queues rows for writing; never waits and never throws. */
  log(rows: ImpressionRow[]): void {
    for (const r of rows) this.buffer.push(r);
    if (this.buffer.length > BUFFER_MAX) {
      const excess = this.buffer.length - BUFFER_MAX;
      this.buffer.splice(0, excess);
      this.dropped.inc({ reason: 'buffer_full' }, excess);
      this.logger.warn(`impression buffer full: dropped the ${excess} oldest`);
    }
  }

  /** Writes what is buffered (one batch at a time); resolves when done or failed. */
  flush(): Promise<void> {
    this.flushing ??= this.drain().finally(() => (this.flushing = null));
    return this.flushing;
  }

  private async drain(): Promise<void> {
    while (this.buffer.length > 0 && Date.now() >= this.retryAt) {
      const batch = this.buffer.slice(0, BATCH_MAX);
      const started = Date.now();
      try {
        const refused = await this.writeIsolating(batch);
        this.buffer.splice(0, batch.length);
        this.written.inc(batch.length - refused.length);
        this.flushSeconds.observe((Date.now() - started) / 1000);
        this.retryDelay = 0;
        if (refused.length > 0) {
          this.dropped.inc({ reason: 'refused' }, refused.length);
          this.logger.error(`dropped ${refused.length} impression(s) Postgres refused, wrote the other ${batch.length - refused.length}: ${refused[0]}`);
        }
      } catch (err) {
        this.retryDelay = Math.min(RETRY_MAX_MS, Math.max(500, this.retryDelay * 2));
        this.retryAt = Date.now() + this.retryDelay;
        this.logger.warn(`writing ${batch.length} impressions failed (retry in ${this.retryDelay} ms): ${(err as Error).message}`);
        return;
      }
    }
  }

  /**
   * Writes the batch; when Postgres refuses it for something other than being
   * unreachable, finds the rows at fault by halving, writes the rest, and returns the
   * reasons of the refused rows (one per row). An empty write first tells a fault of the
   * statement (a missing table: thrown, the batch is retried later) from a fault of rows.
   */
  private async writeIsolating(rows: ImpressionRow[]): Promise<string[]> {
    try {
      await this.write(rows);
      return [];
    } catch (err) {
      if (isDatabaseUnavailable(err)) throw err;
      await this.write([]);
      return this.bisect(rows, err as Error);
    }
  }

  private async bisect(rows: ImpressionRow[], err: Error): Promise<string[]> {
    if (rows.length === 1) return [err.message];
    const refused: string[] = [];
    for (const half of [rows.slice(0, rows.length >> 1), rows.slice(rows.length >> 1)]) {
      try {
        await this.write(half);
      } catch (halfErr) {
        if (isDatabaseUnavailable(halfErr)) throw halfErr;
        refused.push(...(await this.bisect(half, halfErr as Error)));
      }
    }
    return refused;
  }

  private write(rows: ImpressionRow[]): Promise<void> {
    return this.repository.write(rows);
  }
}
