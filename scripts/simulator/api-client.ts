import { performance } from 'node:perf_hooks';

// The simulator reads the feed over HTTP, as an app would, with the api's own response types.
export type { FeedItem, FeedPage } from '../../src/feed/feed.service';
import type { FeedPage } from '../../src/feed/feed.service';

export interface ClientEvent {
  eventId: string;
  type: string;
  videoId: string;
  watchMs?: number;
  requestId?: string;
  occurredAt?: string;
}

export interface ModelVersionSummary {
  id: string;
  status: string;
  createdAt?: string;
  activatedAt?: string | null;
  metrics?: Record<string, unknown>;
}

export interface TrainingJobStatus {
  id: string;
  /** BullMQ job state: waiting, active, completed, failed, delayed, ... */
  state: string;
  result: { modelId: string; promoted: boolean; decision: string } | null;
  failedReason: string | null;
}

const MAX_RATE_LIMIT_RETRIES = 3;

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** The simulator's view of the service: the public HTTP API and the admin model endpoints. */
export class ApiClient {
  constructor(
    private readonly baseUrl: string,
    private readonly adminApiKey: string,
  ) {}

  async feed(token: string, limit: number, cursor?: string): Promise<{ page: FeedPage; latencyMs: number }> {
    const params = new URLSearchParams({ limit: String(limit) });
    if (cursor) params.set('cursor', cursor);
    const started = performance.now();
    const page = await this.request<FeedPage>('GET', `/v1/feed?${params}`, { authorization: `Bearer ${token}` });
    return { page, latencyMs: performance.now() - started };
  }

  async postEvents(token: string, events: ClientEvent[]): Promise<{ accepted: number; duplicates: number }> {
    return this.request('POST', '/v1/events', { authorization: `Bearer ${token}` }, { events });
  }

  async listModels(): Promise<ModelVersionSummary[]> {
    return (await this.request<{ models: ModelVersionSummary[] }>('GET', '/v1/admin/models', this.admin())).models;
  }

  /** Queues a training run on the last `windowHours` of the log (activated if it beats the active model); returns the job id. */
  async train(windowHours: number): Promise<string> {
    const body = { windowHours, autoPromote: true };
    return (await this.request<{ jobId: string }>('POST', '/v1/admin/models/train', this.admin(), body)).jobId;
  }

  async trainingStatus(jobId: string): Promise<TrainingJobStatus> {
    return this.request('GET', `/v1/admin/models/train/${encodeURIComponent(jobId)}`, this.admin());
  }

  async activate(id: string): Promise<ModelVersionSummary> {
    return this.request('POST', `/v1/admin/models/${encodeURIComponent(id)}/activate`, this.admin(), {});
  }

  async ready(): Promise<boolean> {
    try {
      await this.request('GET', '/health/ready', {});
      return true;
    } catch {
      return false;
    }
  }

  private admin(): Record<string, string> {
    return { 'x-api-key': this.adminApiKey };
  }

  private async request<T>(method: string, path: string, headers: Record<string, string>, body?: unknown): Promise<T> {
    const send = () =>
      fetch(`${this.baseUrl}${path}`, {
        method,
        headers: body === undefined ? headers : { ...headers, 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    let res = await send();
    // Rate limited (many simulated users share one IP): wait as told, a few times.
    for (let retry = 0; res.status === 429 && retry < MAX_RATE_LIMIT_RETRIES; retry++) {
      await res.arrayBuffer();
      await new Promise((r) => setTimeout(r, 1000 * Math.min(30, Number(res.headers.get('retry-after')) || 1)));
      res = await send();
    }
    const text = await res.text();
    if (!res.ok) throw new ApiError(res.status, `${method} ${path.split('?')[0]} -> ${res.status} ${text.slice(0, 300)}`);
    return (text ? JSON.parse(text) : undefined) as T;
  }
}
