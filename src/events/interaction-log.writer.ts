import { Injectable } from '@nestjs/common';
import { isDatabaseUnavailable } from '../database/database-unavailable';
import { LoggedEvent } from './event-jobs';
import { PipelineMetrics } from './events.metrics';
import { InteractionLogRepository } from './interaction-log.repository';

/** Rows per INSERT at most. */
const MAX_ROWS = 5000;

/** A row Postgres refused on its own (its neighbours were written): its index in the caller's rows and why. */
export interface RefusedRow {
  index: number;
  reason: string;
}

interface Pending {
  rows: LoggedEvent[];
  resolve: (refused: RefusedRow[]) => void;
  reject: (err: Error) => void;
}

/**
 * Appends to the interactions log with group commit: rows handed in while an INSERT is
 * running are written together by the next one, so concurrent jobs share statements
 * (fewer round trips and transactions under load, no added wait when idle). Each
 * caller's promise settles when its own rows are committed.
 *
 * A statement that fails is tried again one row at a time, so one bad row cannot take
 * other rows (or other users' jobs) down with it: the callers get the rows refused on
 * their own. When every row fails alike (a missing table, Postgres unreachable) the
 * problem is not in the rows, and every caller's promise rejects with the error.
 */
@Injectable()
export class InteractionLogWriter {
  private pending: Pending[] = [];
  private inFlight = false;

  constructor(
    private readonly log: InteractionLogRepository,
    private readonly metrics: PipelineMetrics,
  ) {}

  /** Resolves with the rows refused on their own (usually none). */
  append(rows: LoggedEvent[]): Promise<RefusedRow[]> {
    if (rows.length === 0) return Promise.resolve([]);
    return new Promise<RefusedRow[]>((resolve, reject) => {
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
        for (const p of batch) p.resolve([]);
      } catch (err) {
        await this.rowByRow(batch, err as Error);
      }
    }
    this.inFlight = false;
  }

  private async rowByRow(batch: Pending[], batchError: Error): Promise<void> {
    const rows = batch.reduce((n, p) => n + p.rows.length, 0);
    if (rows === 1 || isDatabaseUnavailable(batchError)) {
      for (const p of batch) p.reject(batchError);
      return;
    }
    const refused: RefusedRow[][] = batch.map(() => []);
    let written = 0;
    try {
      for (let b = 0; b < batch.length; b++) {
        for (let i = 0; i < batch[b].rows.length; i++) {
          try {
            written += await this.log.append([batch[b].rows[i]]);
          } catch (err) {
            if (isDatabaseUnavailable(err)) throw err;
            refused[b].push({ index: i, reason: (err as Error).message });
          }
        }
      }
    } catch (err) {
      this.metrics.logged.inc(written);
      for (const p of batch) p.reject(err as Error);
      return;
    }
    this.metrics.logged.inc(written);
    const failedAll = refused.every((r, b) => r.length === batch[b].rows.length);
    const sameReason = new Set(refused.flat().map((r) => r.reason)).size === 1;
    if (failedAll && sameReason) {
      for (const p of batch) p.reject(batchError);
      return;
    }
    batch.forEach((p, b) => p.resolve(refused[b]));
  }
}
