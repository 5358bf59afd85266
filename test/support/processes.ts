import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createWriteStream, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');

/** Compiles src to dist (incremental; a no-op when nothing changed) so tests can spawn the real entry points. */
export function buildDist(): void {
  execFileSync(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'], {
    cwd: ROOT,
    stdio: 'inherit',
  });
}

export interface AppProcess {
  readonly name: string;
  readonly child: ChildProcess;
  readonly logFile: string;
  /** Everything the process printed so far. */
  log(): string;
  /** SIGTERM (graceful), then SIGKILL after `graceMs`; resolves with the exit code or signal. */
  stop(graceMs?: number): Promise<number | string | null>;
  /** SIGKILL: a crash, with no chance to finish anything. */
  kill(): Promise<number | string | null>;
}

export { freePort } from './child-process';

const logDir = mkdtempSync(join(tmpdir(), 'reelrank-procs-'));

function exited(child: ChildProcess): Promise<number | string | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode ?? child.signalCode);
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal)));
}

/**
 * Spawns `node dist/src/<entry>.js` with `env` on top of this process's environment,
 * its output going to a log file (shown by `log()`, worth printing when a test fails).
 */
export function spawnEntry(name: string, entry: 'main' | 'worker' | 'stream', env: NodeJS.ProcessEnv): AppProcess {
  const logFile = join(logDir, `${name}.log`);
  const out = createWriteStream(logFile);
  const child = spawn(process.execPath, [join(ROOT, 'dist', 'src', `${entry}.js`)], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.pipe(out);
  child.stderr!.pipe(out);
  const stop = async (graceMs = 10_000) => {
    const done = exited(child);
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    try {
      return await done;
    } finally {
      clearTimeout(timer);
    }
  };
  const kill = async () => {
    const done = exited(child);
    child.kill('SIGKILL');
    return done;
  };
  return { name, child, logFile, log: () => readFileSync(logFile, 'utf8'), stop, kill };
}

/** Polls `probe` until it returns true; throws with `describe()` in the message on timeout. */
export async function waitUntil(
  probe: () => Promise<boolean> | boolean,
  timeoutMs: number,
  describe: () => string = () => '',
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await Promise.resolve().then(probe).catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms ${describe()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Waits for a process to answer 200 on `path` (api: /health/ready; worker: its /metrics port); fails at once if it exits. */
export async function waitForHttp(proc: AppProcess, port: number, path: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (proc.child.exitCode !== null || proc.child.signalCode !== null) throw new Error(`${proc.name} exited:\n${proc.log()}`);
    const status = await fetch(`http://127.0.0.1:${port}${path}`).then((r) => r.status, () => 0);
    if (status === 200) return;
    if (Date.now() > deadline) throw new Error(`${proc.name} not ready on ${port} after ${timeoutMs} ms:\n${proc.log()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Sum of every sample of metric `name` (all label sets) on a process's /metrics, or 0 if absent. */
export async function scrapeMetric(port: number, name: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  let sum = 0;
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*)(\{[^}]*\})?\s+(\S+)$/.exec(line);
    if (match && match[1] === name) sum += Number(match[3]);
  }
  return sum;
}
