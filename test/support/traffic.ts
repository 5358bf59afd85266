import { TokenVerifierService } from '../../src/auth/token-verifier.service';
import { loadConfig } from '../../src/config/app-config';

/** One request a traffic client sent and what came back (status, or the socket error / timeout). */
export interface Outcome<T = unknown> {
  sentAt: number;
  doneAt: number;
  status: number | null;
  error?: string;
  body?: T;
}

/**
 * Sends requests at a steady rate (one every `everyMs`, not waiting for earlier ones:
 * a slow or hung server does not slow the client down) until stopped, and keeps every
 * outcome. Bounded: at most `maxRequests`.
 */
export class Traffic<T> {
  readonly outcomes: Outcome<T>[] = [];
  private timer: NodeJS.Timeout | null = null;
  private readonly inFlight = new Set<Promise<void>>();
  private sent = 0;

  constructor(
    private readonly everyMs: number,
    private readonly send: (n: number) => Promise<Outcome<T>>,
    private readonly maxRequests = 20_000,
  ) {}

  start(): this {
    this.timer = setInterval(() => {
      if (this.sent >= this.maxRequests) return;
      const p = this.send(this.sent++).then((o) => void this.outcomes.push(o));
      this.inFlight.add(p);
      void p.finally(() => this.inFlight.delete(p));
    }, this.everyMs);
    return this;
  }

  /** Stops sending and waits for the answers still due. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await Promise.all([...this.inFlight]);
  }

  /** Outcomes of requests sent in [from, to). */
  sentBetween(from: number, to: number): Outcome<T>[] {
    return this.outcomes.filter((o) => o.sentAt >= from && o.sentAt < to);
  }
}

/** Counts of outcomes by status (or error code), e.g. `{ "202": 180, "503": 12, "ECONNRESET": 1 }`. */
export function tally(outcomes: Outcome[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const o of outcomes) {
    const key = o.status === null ? (o.error ?? 'error') : String(o.status);
    out[key] = (out[key] ?? 0) + 1;
  }
  return out;
}

export async function request<T>(url: string, init: RequestInit & { timeoutMs?: number } = {}): Promise<Outcome<T>> {
  const sentAt = Date.now();
  try {
    const res = await fetch(url, { ...init, signal: AbortSignal.timeout(init.timeoutMs ?? 5000) });
    const text = await res.text();
    let body: T | undefined;
    try {
      body = JSON.parse(text) as T;
    } catch {
      body = undefined;
    }
    return { sentAt, doneAt: Date.now(), status: res.status, body };
  } catch (err) {
    const e = err as Error & { cause?: { code?: string } };
    return { sentAt, doneAt: Date.now(), status: null, error: e.cause?.code ?? e.name };
  }
}

const tokens = new TokenVerifierService(loadConfig());
const tokenCache = new Map<string, Promise<string>>();

/** A client token for `userId` (signed with the configured JWT_SECRET, as the api expects). */
export function tokenFor(userId: string): Promise<string> {
  let token = tokenCache.get(userId);
  if (!token) tokenCache.set(userId, (token = tokens.issue(userId)));
  return token;
}

export interface EventBatch {
  userId: string;
  eventIds: string[];
}

const TYPES = ['view', 'like', 'complete', 'skip', 'share'] as const;

/**
 * POST /v1/events of `size` new events of one user (users taken in turn, ids unique
 * per run); the outcome's body is replaced by the batch sent.
 */
export function eventPoster(port: number, runId: string, users: string[], videos: string[], size: number) {
  return async (n: number): Promise<Outcome<EventBatch>> => {
    const userId = users[n % users.length];
    const events = Array.from({ length: size }, (_, i) => {
      const type = TYPES[(n + i) % TYPES.length];
      return {
        eventId: `${runId}-${n}-${i}`,
        type,
        videoId: videos[(n * size + i) % videos.length],
        ...(type === 'view' || type === 'skip' ? { watchMs: 1000 + i * 100 } : {}),
      };
    });
    const out = await request(`http://127.0.0.1:${port}/v1/events`, {
      method: 'POST',
      headers: { authorization: `Bearer ${await tokenFor(userId)}`, 'content-type': 'application/json' },
      body: JSON.stringify({ events }),
    });
    return { ...out, body: { userId, eventIds: events.map((e) => e.eventId) } };
  };
}

export interface FeedAnswer {
  requestId: string;
  items: { videoId: string; source: string }[];
}

/** GET /v1/feed for users taken in turn. */
export function feedGetter(port: number, users: string[], limit = 10) {
  return async (n: number): Promise<Outcome<FeedAnswer>> => {
    const userId = users[n % users.length];
    return request<FeedAnswer>(`http://127.0.0.1:${port}/v1/feed?limit=${limit}`, {
      headers: { authorization: `Bearer ${await tokenFor(userId)}` },
    });
  };
}

/** Event ids answered 202, per user. */
export function acceptedEvents(outcomes: Outcome<EventBatch>[]): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const o of outcomes) {
    if (o.status !== 202 || !o.body) continue;
    let ids = out.get(o.body.userId);
    if (!ids) out.set(o.body.userId, (ids = new Set()));
    for (const id of o.body.eventIds) ids.add(id);
  }
  return out;
}

/** Sum of a metric's samples (all label sets containing `labels`) on a process's /metrics; 0 if absent. */
export async function metricOn(port: number, name: string, labels: Record<string, string> = {}): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  let sum = 0;
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)(\{[^}]*\})?\s+(\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    if (Object.entries(labels).every(([k, v]) => (m[2] ?? '').includes(`${k}="${v}"`))) sum += Number(m[3]);
  }
  return sum;
}
