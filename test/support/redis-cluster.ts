import { ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';

const run = promisify(execFile);

export interface LocalRedisCluster {
  /** `host:port,...` as REDIS_CLUSTER_NODES expects it. */
  readonly nodes: string;
  readonly ports: number[];
  /** Kills one node (SIGKILL), as a crashed master. */
  kill(port: number): Promise<void>;
  /** Starts a killed node again (it rejoins with its slots) and waits for the cluster to be ok. */
  restart(port: number): Promise<void>;
  stop(): Promise<void>;
}

export interface RedisClusterOptions {
  masters?: number;
  /** First port to try; REDIS_CLUSTER_TEST_PORT overrides it. Each node also needs port + 10000 (cluster bus). */
  basePort?: number;
}

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

async function pickPorts(count: number, basePort: number): Promise<number[]> {
  const ports: number[] = [];
  for (let port = basePort; ports.length < count && port < basePort + 200; port++) {
    if ((await portIsFree(port)) && (await portIsFree(port + 10000))) ports.push(port);
  }
  if (ports.length < count) throw new Error(`no ${count} free ports (and bus ports +10000) from ${basePort}`);
  return ports;
}

function waitForPort(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const attempt = () => {
      const socket = createConnection({ port, host: '127.0.0.1' });
      socket.once('connect', () => {
        socket.destroy();
        resolve();
      });
      socket.once('error', () => {
        socket.destroy();
        if (Date.now() > deadline) reject(new Error(`redis-server on ${port} did not start`));
        else setTimeout(attempt, 50);
      });
    };
    attempt();
  });
}

async function waitForClusterOk(ports: number[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (const port of ports) {
    const redis = new Redis({ port, host: '127.0.0.1', lazyConnect: true });
    try {
      await redis.connect();
      for (;;) {
        const info = await redis.cluster('INFO');
        if (/cluster_state:ok/.test(info) && /cluster_slots_assigned:16384/.test(info)) break;
        if (Date.now() > deadline) throw new Error(`cluster not ok on ${port}:\n${info}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    } finally {
      redis.disconnect();
    }
  }
}

/**
 * Starts a real Redis Cluster of `masters` redis-server processes (no replicas) on
 * loopback ports with their data in a temp dir, joined with
 * `redis-cli --cluster create`. Call `stop()` to kill the nodes and remove the dir.
 */
export async function startRedisCluster(options: RedisClusterOptions = {}): Promise<LocalRedisCluster> {
  const masters = options.masters ?? 3;
  const basePort = Number(process.env.REDIS_CLUSTER_TEST_PORT) || options.basePort || 7101;
  const ports = await pickPorts(masters, basePort);
  const dir = mkdtempSync(join(tmpdir(), 'reelrank-cluster-'));
  const children: ChildProcess[] = [];

  const killChild = (child: ChildProcess) =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGKILL');
    });
  const stop = async () => {
    await Promise.all(children.map(killChild));
    rmSync(dir, { recursive: true, force: true });
  };
  const kill = (port: number) => killChild(children[ports.indexOf(port)]);

  const startNode = (port: number) =>
    spawn(
      'redis-server',
      [
        '--port', String(port),
        '--bind', '127.0.0.1',
        '--cluster-enabled', 'yes',
        '--cluster-config-file', `nodes-${port}.conf`,
        '--cluster-node-timeout', '3000',
        // As recommended for production (README): a master that is down takes only its own slots away.
        '--cluster-require-full-coverage', 'no',
        '--dir', dir,
        '--save', '',
        '--appendonly', 'no',
        '--daemonize', 'no',
        '--logfile', join(dir, `redis-${port}.log`),
      ],
      { stdio: 'ignore' },
    );
  const restart = async (port: number) => {
    children[ports.indexOf(port)] = startNode(port);
    await waitForPort(port, 10_000);
    await waitForClusterOk(ports, 20_000);
  };

  try {
    for (const port of ports) children.push(startNode(port));
    await Promise.all(ports.map((port) => waitForPort(port, 10_000)));
    await run('redis-cli', [
      '--cluster', 'create',
      ...ports.map((p) => `127.0.0.1:${p}`),
      '--cluster-replicas', '0',
      '--cluster-yes',
    ]);
    await waitForClusterOk(ports, 20_000);
  } catch (err) {
    await stop();
    throw err;
  }
  return { nodes: ports.map((p) => `127.0.0.1:${p}`).join(','), ports, kill, restart, stop };
}
