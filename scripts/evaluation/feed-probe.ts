import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { performance } from 'node:perf_hooks';
import { TokenVerifierService } from '../../src/auth/token-verifier.service';
import { CatalogSnapshotService } from '../../src/catalog/catalog-snapshot.service';
import { AnnIndexService } from '../../src/feed/ann/ann-index.service';

export interface FeedProbeResult {
  videoIds: string[];
  ms: number;
}

/**
 * Asks the api app (built as main.ts builds it) for users' first feed pages over an
 * in-process HTTP request: the production code path from routing to the response.
 */
export class FeedProbe {
  constructor(private readonly app: NestFastifyApplication) {}

  /** Waits for the nearest-neighbour index when any video has an embedding to build it from. */
  async ready(timeoutMs = 300_000): Promise<boolean> {
    const ann = this.app.get(AnnIndexService);
    const catalog = this.app.get(CatalogSnapshotService);
    const anyEmbedding = [...catalog.values()].some((v) => v.embedding !== null && v.embedding !== undefined);
    const until = Date.now() + timeoutMs;
    while (anyEmbedding && !ann.ready && Date.now() < until) await new Promise((r) => setTimeout(r, 200));
    return ann.ready;
  }

  async firstPage(userId: string, limit: number): Promise<FeedProbeResult> {
    const token = await this.app.get(TokenVerifierService).issue(userId);
    const started = performance.now();
    const response = await this.app.inject({ method: 'GET', url: `/v1/feed?limit=${limit}`, headers: { authorization: `Bearer ${token}` } });
    const ms = performance.now() - started;
    if (response.statusCode !== 200) throw new Error(`feed for ${userId}: HTTP ${response.statusCode} ${response.body.slice(0, 200)}`);
    const body = response.json() as { items: { videoId: string }[] };
    return { videoIds: body.items.map((i) => i.videoId), ms };
  }
}
