import { SingleBar } from 'cli-progress';
import { createReadStream } from 'node:fs';
import { basename } from 'node:path';
import { ImportProgress, PhaseReport } from '../importer/importer.service';

/** Lines in a file (for the progress bar's total and ETA). */
export async function countLines(file: string): Promise<number> {
  let lines = 0;
  for await (const chunk of createReadStream(file) as AsyncIterable<Buffer>) {
    for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) lines++;
  }
  return lines;
}

export function rate(count: number, ms: number): string {
  const perSecond = count / Math.max(0.001, ms / 1000);
  return perSecond >= 10_000 ? `${Math.round(perSecond / 1000)}k/s` : `${Math.round(perSecond)}/s`;
}

/** One phase's progress: a bar with rate and ETA on a terminal, nothing until the phase's summary line otherwise. */
export class PhaseProgress implements ImportProgress {
  private readonly bar: SingleBar | null;
  private readonly started = Date.now();
  private pending = 0;
  private done = 0;

  constructor(label: string, total: number, tty = Boolean(process.stderr.isTTY)) {
    this.bar = tty
      ? new SingleBar({
          format: `${label.padEnd(22)} [{bar}] {percentage}% | {value}/{total} rows | {speed} | ETA {eta_formatted}`,
          stream: process.stderr,
          etaBuffer: 50,
          fps: 5,
        })
      : null;
    this.bar?.start(Math.max(1, total), 0, { speed: '-' });
  }

  rows(count: number): void {
    if (!this.bar) return;
    this.pending += count;
    if (this.pending < 1000) return;
    this.done += this.pending;
    this.pending = 0;
    this.bar.update(this.done, { speed: rate(this.done, Date.now() - this.started) });
  }

  stop(): void {
    if (!this.bar) return;
    this.bar.update(this.done + this.pending);
    this.bar.stop();
  }
}

export function phaseLine(r: PhaseReport): string {
  const what = r.phase === 'videos' ? 'videos' : 'events';
  const resumed = r.resumedAfterLine === null ? '' : ` (resumed after line ${r.resumedAfterLine})`;
  return (
    `${r.phase}: ${basename(r.file)}${resumed}: ${r.rows} rows in ${(r.ms / 1000).toFixed(1)} s (${rate(r.rows, r.ms)}), ` +
    `${r.records} ${what}, ${r.written} new, ${r.records - r.written} already there, ${r.bad} bad rows` +
    (r.bad > 0 ? ` (${Object.entries(r.badReasons).map(([reason, n]) => `${n} x ${reason}`).join('; ')})` : '')
  );
}
