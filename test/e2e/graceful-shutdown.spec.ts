import http from 'node:http';
import { ChildApp, freePort, startApi } from '../support/child-process';

const ADMIN_KEY = 'reelrank-admin-dev-key';

jest.setTimeout(60_000);

interface Outcome {
  sentAt: number;
  status?: number;
  error?: string;
}

/** One GET on its own connection; resolves with the status or the socket error. */
function get(port: number, path: string, headers: Record<string, string> = {}): Promise<Outcome> {
  const sentAt = Date.now();
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path, headers, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve({ sentAt, status: res.statusCode }));
    });
    req.on('error', (err: NodeJS.ErrnoException) => resolve({ sentAt, error: err.code ?? err.message }));
  });
}

/**
 * A POST whose body arrives in two halves `gapMs` apart: the request is in flight
 * (headers received, body pending) for the whole gap.
 */
function slowPost(port: number, path: string, body: string, gapMs: number, onFirstHalf: () => void): Promise<Outcome & { body?: string }> {
  const sentAt = Date.now();
  return new Promise((resolve) => {
    const req = http.request(
      { host: '127.0.0.1', port, path, method: 'POST', agent: false, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } },
      (res) => {
        let text = '';
        res.on('data', (c) => (text += c));
        res.on('end', () => resolve({ sentAt, status: res.statusCode, body: text }));
      },
    );
    req.on('error', (err: NodeJS.ErrnoException) => resolve({ sentAt, error: err.code ?? err.message }));
    const half = Math.floor(body.length / 2);
    req.write(body.slice(0, half));
    req.flushHeaders();
    setTimeout(onFirstHalf, 200);
    setTimeout(() => req.end(body.slice(half)), 200 + gapMs);
  });
}

describe('graceful shutdown of a real api process', () => {
  let api: ChildApp | undefined;

  afterEach(async () => {
    await api?.stop('SIGKILL');
    api = undefined;
  });

  it('finishes a request in flight when SIGTERM arrives, then exits', async () => {
    const port = await freePort();
    api = await startApi(port, { DEMO_MODE: 'true' });
    const child = api;
    const started = Date.now();
    let signalledAt = 0;
    const res = await slowPost(port, '/v1/demo/token', JSON.stringify({ userId: 'in-flight-user' }), 700, () => {
      signalledAt = Date.now();
      child.proc.kill('SIGTERM');
    });
    expect(signalledAt).toBeGreaterThan(started);
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body!).token).toMatch(/^ey/);
    const exit = await child.exited;
    expect(exit.signal ?? exit.code).toBe(exit.signal ? 'SIGTERM' : 0);
    const done = await child.waitForLog((l) => typeof l.msg === 'string' && l.msg.startsWith('stopped taking work (SIGTERM)'));
    expect(done.level).toBe(30);
    expect(child.logs.filter((l) => l.level >= 50)).toEqual([]);
  });

  it('under load: serves through the drain delay, then refuses new connections; every processed request is answered, none with 5xx', async () => {
    const port = await freePort();
    api = await startApi(port, { THROTTLE_ENABLED: 'false', SHUTDOWN_DRAIN_DELAY_MS: '1000' });
    const child = api;
    const outcomes: Outcome[] = [];
    let stopped = false;
    let signalledAt = Number.POSITIVE_INFINITY;
    const client = async () => {
      while (!stopped) {
        // the drift endpoint reads Postgres, so in-flight requests need the pool open until they finish
        outcomes.push(await get(port, '/v1/admin/drift', { 'x-api-key': ADMIN_KEY }));
        if (outcomes[outcomes.length - 1].error === 'ECONNREFUSED') stopped = true;
      }
    };
    const readiness: Outcome[] = [];
    const clients = Array.from({ length: 8 }, client);
    while (outcomes.length < 30) await new Promise((r) => setTimeout(r, 20));
    signalledAt = Date.now();
    child.proc.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 150));
    // Both probes connect well inside the drain delay, even on a loaded machine.
    readiness.push(...(await Promise.all([get(port, '/health/ready'), get(port, '/health/live')])));
    await child.exited;
    stopped = true;
    await Promise.all(clients);

    const before = outcomes.filter((o) => o.sentAt < signalledAt);
    const after = outcomes.filter((o) => o.sentAt >= signalledAt);
    expect(before.length).toBeGreaterThan(20);
    expect(before.filter((o) => o.status !== 200)).toEqual([]);
    expect(after.filter((o) => o.status === 200).length).toBeGreaterThan(5); // still served while draining
    // Once the listener closes, new connections are refused (or reset while queued in the
    // kernel backlog): never processed, and never answered with an error status.
    expect(after.filter((o) => o.status !== 200 && o.error !== 'ECONNREFUSED' && o.error !== 'ECONNRESET')).toEqual([]);
    // Nothing lost: every request the server processed reached its client as a 200.
    const completed = child.logs.filter((l) => l.msg === 'request completed' && l.req?.url === '/v1/admin/drift');
    expect(completed.every((l) => l.res?.statusCode === 200)).toBe(true);
    expect(outcomes.filter((o) => o.status === 200).length).toBe(completed.length);
    expect(readiness[0].status).toBe(503); // load balancers are told to stop sending
    expect(readiness[1].status).toBe(200);
    expect(child.logs.filter((l) => l.level >= 50)).toEqual([]);
  });
});

describe('structured logs of a real api process', () => {
  it('writes one JSON line per request with the request id, and no secrets', async () => {
    const port = await freePort();
    const api = await startApi(port, { DEMO_MODE: 'true' });
    try {
      const res = await new Promise<http.IncomingMessage>((resolve) =>
        http.get({ host: '127.0.0.1', port, path: '/v1/admin/drift', headers: { 'x-request-id': 'trace-42', 'x-api-key': ADMIN_KEY, authorization: 'Bearer secret-token' } }, (r) => {
          r.resume();
          r.on('end', () => resolve(r));
        }),
      );
      expect(res.headers['x-request-id']).toBe('trace-42');
      const line = await api.waitForLog((l) => l.req?.id === 'trace-42' && l.msg === 'request completed');
      expect(line).toMatchObject({ name: 'api', level: 30, req: { method: 'GET', url: '/v1/admin/drift' }, res: { statusCode: 200 } });
      expect(typeof line.responseTime).toBe('number');
      expect(JSON.stringify(api.logs)).not.toMatch(/secret-token|reelrank-admin-dev-key/);
      // Nest's own messages go through pino too
      expect(api.logs.some((l) => l.context === 'NestApplication' || l.context === 'RoutesResolver')).toBe(true);
      // probes are not logged per request
      await new Promise<void>((resolve) => http.get({ host: '127.0.0.1', port, path: '/health/live' }, (r) => r.resume().on('end', resolve)));
      await new Promise((r) => setTimeout(r, 100));
      expect(api.logs.some((l) => l.req?.url === '/health/live')).toBe(false);
    } finally {
      await api.stop();
    }
  });
});
