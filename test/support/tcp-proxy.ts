import { createServer, Server, Socket } from 'node:net';

/**
 * A TCP relay between the app and a real server (Redis), so a test can take the
 * server away (`down`) or make it slow (`delayMs` on every answer) for one app only,
 * without touching the shared server other test runs use.
 */
export class TcpProxy {
  delayMs = 0;
  private down = false;
  private server: Server | null = null;
  private readonly sockets = new Set<Socket>();

  constructor(
    private readonly targetPort: number,
    private readonly targetHost = '127.0.0.1',
  ) {}

  async start(): Promise<number> {
    this.server = createServer((client) => this.relay(client));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return (this.server.address() as { port: number }).port;
  }

  /** Cuts every connection and refuses new ones (true), or lets them through again (false). */
  setDown(down: boolean): void {
    this.down = down;
    if (down) for (const s of this.sockets) s.destroy();
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private relay(client: Socket): void {
    if (this.down) {
      client.destroy();
      return;
    }
    const upstream = new Socket();
    upstream.connect(this.targetPort, this.targetHost);
    for (const s of [client, upstream]) {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
      s.on('error', () => undefined);
    }
    client.on('data', (chunk) => upstream.write(chunk));
    // Answers keep their order even when delayMs changes mid-stream.
    let lastDue = 0;
    upstream.on('data', (chunk) => {
      const now = Date.now();
      const due = Math.max(now + this.delayMs, lastDue);
      lastDue = due;
      if (due <= now) client.write(chunk);
      else setTimeout(() => client.writable && client.write(chunk), due - now);
    });
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  }
}
