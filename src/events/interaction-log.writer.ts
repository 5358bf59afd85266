import { Injectable } from '@nestjs/common';
import { LoggedEvent } from './event-jobs';
import { PipelineMetrics } from './events.metrics';
import { InteractionLogRepository } from './interaction-log.repository';

/** Rows per INSERT at most. */
const MAX_ROWS = 5000;

interface Pending {
  rows: LoggedEvent[];
  resolve: () => void;
  reject: (err: Error) => void;
}

/**
 * Appends to the interactions log with group commit: rows handed in while an INSERT is
 * running are written together by the next one, so concurrent jobs share statements
 * (fewer round trips and transactions under load, no added wait when idle). Each
 * caller's promise settles when its own rows are committed, or with the error of the
 * statement that carried them.
 */
@Injectable()
export class InteractionLogWriter {
  private pending: Pending[] = [];
  private inFlight = false;

  constructor(
    private readonly log: InteractionLogRepository,
    private readonly metrics: PipelineMetrics,
  ) {}

  append(rows: LoggedEvent[]): Promise<void> {
    if (rows.length === 0) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ rows, resolve, reject });
      if (!this.inFlight) void this.flush();
    });
  }

  private async flush(): Promise<void> {
    this.inFlight = true;
    while (this.pending.length > 0) {
      const batch: Pending[] = [];
      let size = 0;
      while (this.pending.length > 0 && (batch.length === 0 || size + this.pending[0].rows.length <= MAX_ROWS)) {
        const next = this.pending.shift()!;
        batch.push(next);
        size += next.rows.length;
      }
      try {
        this.metrics.logged.inc(await this.log.append(batch.flatMap((p) => p.rows)));
        for (const p of batch) p.resolve();
      } catch (err) {
        for (const p of batch) p.reject(err as Error);
      }
    }
    this.inFlight = false;
  }
}
