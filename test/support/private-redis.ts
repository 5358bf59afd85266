import { ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface PrivateRedisOptions {
  /**
   * Append-only file on, fsynced before each reply (`appendfsync always`): every write
   * Redis acknowledged survives a kill, so a loss is ours. With `everysec` Redis may hold
   * its AOF write back for up to 2 s while an earlier fsync is slow, replies already
   * sent, and a SIGKILL then loses those writes (seen on a busy CI disk). Off: a restart
   * starts empty.
   */
  appendOnly: boolean;
}

/**
 * A `redis-server` of the test's own on a free port, so a test can kill and restart
 * Redis without touching the shared one other test runs use. Its data directory is
 * kept across restarts (with appendOnly, a restart reloads the AOF).
 */
export class PrivateRedis {
  private proc: ChildProcess | null = null;
  private readonly dir = mkdtempSync(join(tmpdir(), 'reelrank-redis-'));
  readonly output: string[] = [];

  constructor(readonly port: number) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return this.proc !== null && this.proc.exitCode === null && this.proc.signalCode === null;
  }

  /** Starts the server and resolves once it accepts connections (after loading its AOF, if any). */
  async start(opts: PrivateRedisOptions): Promise<void> {
    if (this.running) throw new Error(`redis on ${this.port} is already running`);
    // prettier-ignore
    const args = [
      '--port', String(this.port), '--bind', '127.0.0.1', '--dir', this.dir, '--save', '',
      '--appendonly', opts.appendOnly ? 'yes' : 'no', '--appendfsync', 'always', '--loglevel', 'notice',
    ];
    const proc = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.proc = proc;
    const ready = new Promise<void>((resolve, reject) => {
      createInterface({ input: proc.stdout! }).on('line', (line) => {
        this.output.push(line);
        if (line.includes('Ready to accept connections')) resolve();
      });
      proc.stderr!.on('data', (d) => this.output.push(String(d)));
      proc.once('exit', (code) => reject(new Error(`redis-server exited (${code}) before it was ready:\n${this.output.join('\n')}`)));
    });
    const timeout = new Promise<never>((_, reject) => setTimeout(() => reject(new Error('redis-server not ready after 10 s')), 10_000).unref());
    await Promise.race([ready, timeout]);
  }

  /** A crash: SIGKILL, nothing flushed beyond what the AOF already had. */
  async kill(): Promise<void> {
    await this.stopWith(() => this.proc!.kill('SIGKILL'));
  }

  /** `SHUTDOWN NOSAVE`: the server goes away without writing a snapshot. */
  async shutdownNoSave(): Promise<void> {
    await this.stopWith(() => void run('redis-cli', ['-p', String(this.port), 'shutdown', 'nosave']).catch(() => undefined));
  }

  /** Stops the server if it runs and deletes its files. */
  async destroy(): Promise<void> {
    if (this.running) await this.kill();
    rmSync(this.dir, { recursive: true, force: true });
  }

  private async stopWith(stop: () => void): Promise<void> {
    const proc = this.proc;
    if (!proc || !this.running) return;
    const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    stop();
    await exited;
  }
}
