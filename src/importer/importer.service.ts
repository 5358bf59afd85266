import { BadRequestException, Injectable } from '@nestjs/common';
import { EventRecord, RowResult, VideoRecord } from './import-records';
import { ImportRepository } from './import.repository';

export interface BadRow {
  file: string;
  line: number;
  reason: string;
}

/** How one phase (one file) went. */
export interface PhaseReport {
  phase: 'videos' | 'events';
  file: string;
  /** Rows read (lines with data). */
  rows: number;
  /** Records in the good rows (a MovieLens rating can be two events). */
  records: number;
  /** Records that were new to the database. */
  written: number;
  bad: number;
  /** Bad rows by reason, the reason's first words as the key. */
  badReasons: Record<string, number>;
  /** Set when an interrupted import of this file was resumed: lines up to here were already committed. */
  resumedAfterLine: number | null;
  ms: number;
}

/** Receives progress; the CLI draws a bar on a terminal and prints one line per phase otherwise. */
export interface ImportProgress {
  rows(count: number): void;
}

export interface PhaseOptions {
  onBadRow?: (bad: BadRow) => void;
  progress?: ImportProgress;
}

export interface EventPhaseOptions extends PhaseOptions {
  /** Checkpoint key of this file (resumable); null for sources that cannot be resumed. */
  source: string | null;
  /** Videos that exist; an event on any other video is a bad row. */
  knownVideos: ReadonlySet<string>;
  /** Events per transaction. */
  chunkSize?: number;
  /** Called after each committed chunk (tests use it to simulate a crash). */
  afterChunk?: (line: number) => Promise<void> | void;
}

/** Of a file's first rows, more than this share bad stops the import before anything of it is written. */
export const MOSTLY_BAD_SHARE = 0.5;
export const MOSTLY_BAD_SAMPLE = 1000;
const DEFAULT_CHUNK = 50_000;
const VIDEO_CHUNK = 10_000;

export class MostlyBadFileError extends Error {}

/** Bad-row accounting shared by both phases, with the early stop on a mostly-bad file. */
class RowTally {
  rows = 0;
  bad = 0;
  records = 0;
  readonly reasons: Record<string, number> = {};
  private decided = false;

  constructor(
    private readonly file: string,
    private readonly onBadRow?: (bad: BadRow) => void,
  ) {}

  row(): void {
    this.rows++;
    if (!this.decided) this.check(false);
  }

  rejected(file: string, line: number, reason: string): void {
    this.bad++;
    const key = reason.split(' (got ')[0];
    this.reasons[key] = (this.reasons[key] ?? 0) + 1;
    this.onBadRow?.({ file, line, reason });
  }

  /** Decided on the first MOSTLY_BAD_SAMPLE rows (or the whole file, when shorter): throws if most were bad. */
  check(atEnd: boolean): void {
    if (this.decided) return;
    const limit = MOSTLY_BAD_SAMPLE * MOSTLY_BAD_SHARE;
    if (this.bad > limit || ((this.rows >= MOSTLY_BAD_SAMPLE || atEnd) && this.bad > this.rows * MOSTLY_BAD_SHARE)) {
      const reasons = Object.entries(this.reasons).map(([r, n]) => `${n} x ${r}`).join('; ');
      throw new MostlyBadFileError(
        `${this.file}: ${this.bad} of the first ${this.rows} rows are bad (${reasons}); stopped. Is it the right file and format?`,
      );
    }
    this.decided = this.rows >= MOSTLY_BAD_SAMPLE || atEnd;
  }
}

/**
 * Bulk import of a catalog and an interaction history: validated rows in chunks through
 * the repository (COPY, idempotent, checkpointed), bad rows reported and skipped. The
 * same code writes the events of the admin HTTP path.
 */
@Injectable()
export class ImporterService {
  constructor(private readonly repo: ImportRepository) {}

  /** Imports a catalog. Returns the report and the ids of videos that came without a created time. */
  async importVideos(file: string, rows: AsyncIterable<RowResult<VideoRecord>>, options: PhaseOptions = {}) {
    const started = Date.now();
    const tally = new RowTally(file, options.onBadRow);
    const undated: string[] = [];
    let written = 0;
    let chunk = new Map<string, VideoRecord>();
    const flush = async () => {
      written += await this.repo.writeVideos([...chunk.values()]);
      chunk = new Map();
    };
    for await (const row of rows) {
      if ('error' in row) tally.rejected(row.file, row.line, row.error);
      else
        for (const v of row.records) {
          tally.records++;
          chunk.set(v.id, v);
          if (v.createdAt === null) undated.push(v.id);
        }
      tally.row();
      options.progress?.rows(1);
      if (chunk.size >= VIDEO_CHUNK) await flush();
    }
    tally.check(true);
    await flush();
    const report: PhaseReport = {
      phase: 'videos',
      file,
      rows: tally.rows,
      records: tally.records,
      written,
      bad: tally.bad,
      badReasons: tally.reasons,
      resumedAfterLine: null,
      ms: Date.now() - started,
    };
    return { report, undated };
  }

  /**
   * Imports a history. Each chunk (rows whole, never split) is one transaction with its
   * checkpoint; after a crash, the next run of the same source skips the committed lines.
   * Parsing the next chunk overlaps with writing the current one.
   */
  async importEvents(file: string, rows: AsyncIterable<RowResult<EventRecord>>, options: EventPhaseOptions): Promise<PhaseReport> {
    const started = Date.now();
    const chunkSize = options.chunkSize ?? DEFAULT_CHUNK;
    const tally = new RowTally(file, options.onBadRow);
    const resumedAfter = options.source ? await this.repo.checkpoint(options.source) : null;
    let written = 0;
    let chunk: EventRecord[] = [];
    let lastLine = 0;
    let writing: Promise<void> = Promise.resolve();
    const flush = async () => {
      await writing;
      const events = chunk;
      const line = lastLine;
      chunk = [];
      writing = this.repo.writeEvents(events, options.source ? { source: options.source, line } : null).then(async (n) => {
        written += n;
        await options.afterChunk?.(line);
      });
      // A failed write must not wait for the next flush to surface.
      writing.catch(() => undefined);
    };
    for await (const row of rows) {
      if (resumedAfter !== null && row.line <= resumedAfter) continue;
      if ('error' in row) {
        tally.rejected(row.file, row.line, row.error);
      } else {
        const unknown = row.records.find((e) => !options.knownVideos.has(e.videoId));
        if (unknown) tally.rejected(row.file, row.line, `videoId is not in the catalog (got ${JSON.stringify(unknown.videoId)})`);
        else {
          for (const e of row.records) chunk.push(e);
          tally.records += row.records.length;
          lastLine = Math.max(lastLine, row.line);
        }
      }
      tally.row();
      options.progress?.rows(1);
      if (chunk.length >= chunkSize) await flush();
    }
    tally.check(true);
    if (chunk.length > 0) await flush();
    await writing;
    if (options.source) await this.repo.clearCheckpoint(options.source);
    return {
      phase: 'events',
      file,
      rows: tally.rows,
      records: tally.records,
      written,
      bad: tally.bad,
      badReasons: tally.reasons,
      resumedAfterLine: resumedAfter,
      ms: Date.now() - started,
    };
  }

  /** Sets the created time of videos that came without one to their first event. */
  datedFromFirstEvent(videoIds: string[]): Promise<number> {
    return this.repo.createdAtFromFirstEvent(videoIds);
  }

  historySpan(): Promise<{ from: number; to: number } | null> {
    return this.repo.historySpan();
  }

  videoIds(): Promise<Set<string>> {
    return this.repo.videoIds();
  }

  /**
   * The admin HTTP path: a validated batch of historical events, all or nothing (a 400
   * names every event on an unknown video). Returns how many were new.
   */
  async appendHistory(events: EventRecord[]): Promise<{ inserted: number; duplicates: number }> {
    const missing = new Set(await this.repo.missingVideos(events.map((e) => e.videoId)));
    const problems = events.flatMap((e, i) => (missing.has(e.videoId) ? [`events.${i}.videoId must be a known video`] : []));
    if (problems.length > 0) throw new BadRequestException(problems);
    const inserted = await this.repo.writeEvents(events, null);
    return { inserted, duplicates: events.length - inserted };
  }
}
