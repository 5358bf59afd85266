import { ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';

const ROOT = path.join(__dirname, '..', '..');
const REGISTER = path.join(__dirname, 'ts-register.js');

export interface LogLine {
  level: number;
  msg?: string;
  name?: string;
  context?: string;
  req?: { id?: string; method?: string; url?: string };
  res?: { statusCode?: number };
  [key: string]: unknown;
}

/** A real api or worker process started from the TypeScript sources, with its JSON log lines collected. */
export class ChildApp {
  readonly logs: LogLine[] = [];
  readonly stderr: string[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(readonly proc: ChildProcess) {
    createInterface({ input: proc.stdout! }).on('line', (line) => {
      try {
        this.logs.push(JSON.parse(line) as LogLine);
      } catch {
        this.stderr.push(line);
      }
    });
    createInterface({ input: proc.stderr! }).on('line', (line) => this.stderr.push(line));
    // 'close', not 'exit': the output may still be in the pipes when the process exits.
    this.exited = new Promise((resolve) => proc.once('close', (code, signal) => resolve({ code, signal })));
  }

  /** Resolves with the first log line matching, or rejects after `timeoutMs`. */
  async waitForLog(match: (line: LogLine) => boolean, timeoutMs = 30_000): Promise<LogLine> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.logs.find(match);
      if (found) return found;
      if (this.proc.exitCode !== null) throw new Error(`process exited (${this.proc.exitCode}): ${this.stderr.join('\n')}`);
      if (Date.now() > deadline) throw new Error(`no matching log line in ${timeoutMs} ms; stderr: ${this.stderr.join('\n')}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Sends `signal` and waits for the process to exit. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (this.proc.exitCode === null && this.proc.signalCode === null) this.proc.kill(signal);
    return this.exited;
  }
}

/**
 * Starts `src/<entry>.ts` as a child process with the test run's environment
 * (database, Redis prefix) plus `env`. Call `stop()` in afterAll.
 */
export function startChild(entry: 'main' | 'worker', env: Record<string, string> = {}): ChildApp {
  const proc = spawn(process.execPath, ['-r', REGISTER, path.join(ROOT, 'src', `${entry}.ts`)], {
    cwd: ROOT,
    env: { ...process.env, LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new ChildApp(proc);
}

/** Starts the api on `port` and waits until it listens. */
export async function startApi(port: number, env: Record<string, string> = {}): Promise<ChildApp> {
  const app = startChild('main', { PORT: String(port), HOST: '127.0.0.1', ...env });
  return started(app, app.waitForLog((l) => typeof l.msg === 'string' && l.msg.startsWith('listening on'), 60_000));
}

/** Starts the worker and waits until its processors run. */
export async function startWorker(env: Record<string, string> = {}): Promise<ChildApp> {
  const app = startChild('worker', env);
  return started(app, app.waitForLog((l) => l.msg === 'processing queues', 60_000));
}

/** The child once `ready` resolves; one that never got ready is killed, not left running for later test files. */
async function started(app: ChildApp, ready: Promise<unknown>): Promise<ChildApp> {
  try {
    await ready;
    return app;
  } catch (err) {
    await app.stop('SIGKILL');
    throw err;
  }
}

/**
 * Starts children together. If one fails, the others are killed before the error is
 * rethrown: a worker left running would take the next test file's jobs from the same
 * Redis prefix.
 */
export async function startAll<T extends readonly ChildApp[]>(starts: { [K in keyof T]: Promise<T[K]> }): Promise<T> {
  const settled = await Promise.allSettled(starts);
  const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed) {
    await Promise.all(settled.map((s) => (s.status === 'fulfilled' ? (s.value as ChildApp).stop('SIGKILL') : undefined)));
    throw failed.reason;
  }
  return settled.map((s) => (s as PromiseFulfilledResult<ChildApp>).value) as unknown as T;
}

/** Ports freePort has handed out in this test file: the OS can give a just-closed port again. */
const givenPorts = new Set<number>();

/**
 * A TCP port nothing listens on right now, never one this test file was given before: two
 * calls in a row (the api's port, the worker's metrics port) once got the same port, and
 * the second process to bind it failed with EADDRINUSE.
 */
export async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  for (;;) {
    const port = await new Promise<number>((resolve, reject) => {
      const server = createServer();
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        const { port: picked } = server.address() as { port: number };
        server.close(() => resolve(picked));
      });
    });
    if (!givenPorts.has(port)) {
      givenPorts.add(port);
      return port;
    }
  }
}
