import { Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { HierarchicalNSW } from 'hnswlib-node';
import { unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import { Gauge, Registry } from 'prom-client';
import { CatalogSnapshotService } from '../../catalog/catalog-snapshot.service';
import { AppConfig } from '../../config/app-config';
import { CatalogVideo } from '../../features/catalog-video';
import { WarmupService } from '../../lifecycle/warmup.service';
import { buildHnswInWorker } from './hnsw-build-worker';
import { NearestVideos } from './nearest-videos';

interface LiveIndex {
  hnsw: HierarchicalNSW;
  /** Label -> video id. */
  ids: string[];
  /** Label -> the video's catalog ordinal. */
  ordinals: number[];
  labels: Map<string, number>;
  ef: number;
}

/** Room for uploads between full rebuilds before the index has to grow. */
const HEADROOM = 1.1;

/**
 * Approximate nearest neighbours (HNSW, cosine) over the catalog's embeddings, for
 * the embedding candidate source. Built on a worker thread at boot and after every
 * whole-catalog refresh (e.g. new learned embeddings), then swapped in atomically;
 * single-video changes are applied in place (new points, takedowns marked deleted).
 * Until the first build is done, `search` answers null and the feed falls back.
 */
/** How long shutdown waits for an index build in progress. */
const SHUTDOWN_BUILD_WAIT_MS = 10_000;

@Injectable()
export class AnnIndexService implements NearestVideos, OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(AnnIndexService.name);
  private live: LiveIndex | null = null;
  private building: Promise<void> | null = null;
  private again = false;
  private pending: CatalogVideo[] = [];
  private worker: Worker | null = null;
  private closed = false;
  private bootBuildTracked = false;
  private readonly elements: Gauge;
  private readonly buildSeconds: Gauge;

  constructor(
    private readonly catalog: CatalogSnapshotService,
    private readonly config: AppConfig,
    registry: Registry,
    private readonly warmup: WarmupService,
  ) {
    this.elements = new Gauge({
      name: 'reelrank_ann_index_elements',
      help: 'Videos in the live nearest-neighbour index (0 while none is built)',
      registers: [registry],
    });
    this.buildSeconds = new Gauge({
      name: 'reelrank_ann_last_build_seconds',
      help: 'Duration of the last nearest-neighbour index build',
      registers: [registry],
    });
  }

  onModuleInit(): void {
    this.catalog.onRefresh((changed) => {
      if (changed === 'all') {
        const build = this.rebuild();
        if (!this.bootBuildTracked) this.warmup.track('ann_index', build);
        this.bootBuildTracked = true;
      } else this.apply(changed);
    });
  }

  async onApplicationShutdown(): Promise<void> {
    this.closed = true;
    // Let a running build finish first: terminating a thread inside native hnswlib code
    // can abort the whole process. A build longer than this is cut short.
    if (this.building) await Promise.race([this.building, new Promise((r) => setTimeout(r, SHUTDOWN_BUILD_WAIT_MS).unref())]);
    await this.worker?.terminate();
  }

  get ready(): boolean {
    return this.live !== null;
  }

  get size(): number {
    return this.live?.ids.length ?? 0;
  }

  /** Ids of the (about) k videos most similar to `embedding`, best first; null when no index is live. */
  search(embedding: number[], k: number): string[] | null {
    const live = this.live;
    const labels = this.nearestLabels(embedding, k);
    return live && labels ? labels.map((label) => live.ids[label]) : null;
  }

  /** As `search`, as catalog ordinals (what the feed's candidate pool takes). */
  searchOrdinals(embedding: number[], k: number): Int32Array | null {
    const live = this.live;
    const labels = this.nearestLabels(embedding, k);
    if (!live || !labels) return null;
    const out = new Int32Array(labels.length);
    for (let i = 0; i < labels.length; i++) out[i] = live.ordinals[labels[i]];
    return out;
  }

  nearest(embedding: number[], k: number): Int32Array | null {
    return this.searchOrdinals(embedding, k);
  }

  private nearestLabels(embedding: number[], k: number): number[] | null {
    const live = this.live;
    if (!live) return null;
    const n = Math.min(k, live.ids.length);
    if (n <= 0 || embedding.length !== this.config.EMBEDDING_DIM) return [];
    const ef = Math.max(this.config.ANN_EF_SEARCH, n);
    if (ef !== live.ef) {
      live.hnsw.setEf(ef);
      live.ef = ef;
    }
    return live.hnsw.searchKnn(embedding, n).neighbors;
  }

  /** Builds a fresh index from the current catalog and swaps it in; resolves when the latest requested build is live. */
  rebuild(): Promise<void> {
    if (this.building) {
      this.again = true;
      return this.building;
    }
    this.building = (async () => {
      do {
        this.again = false;
        await this.buildOnce().catch((err: Error) => {
          // A build cut short by shutdown is expected, not a failure worth an error.
          if (!this.closed) this.logger.error(`index build failed: ${err.message}`);
        });
      } while (this.again && !this.closed);
    })().finally(() => (this.building = null));
    return this.building;
  }

  private async buildOnce(): Promise<void> {
    const dim = this.config.EMBEDDING_DIM;
    const ids: string[] = [];
    for (const v of this.catalog.values()) if (v.active && v.embedding?.length === dim) ids.push(v.id);
    this.pending = [];
    if (ids.length === 0) {
      this.swap(null);
      this.logger.warn('no catalog video has an embedding: nearest-neighbour candidates are unavailable');
      return;
    }
    const vectors = new Float32Array(ids.length * dim);
    ids.forEach((id, i) => vectors.set(this.catalog.get(id)!.embedding!, i * dim));
    const file = join(tmpdir(), `reelrank-ann-${process.pid}-${Date.now()}.hnsw`);
    const started = performance.now();
    const rssBefore = process.memoryUsage().rss;
    try {
      await buildHnswInWorker(
        {
          dim,
          count: ids.length,
          vectors,
          capacity: Math.ceil(ids.length * HEADROOM) + 1000,
          m: this.config.ANN_M,
          efConstruction: this.config.ANN_EF_CONSTRUCTION,
          file,
        },
        (worker) => (this.worker = worker),
      );
      if (this.closed) return;
      const hnsw = new HierarchicalNSW('cosine', dim);
      await hnsw.readIndex(file);
      hnsw.setEf(this.config.ANN_EF_SEARCH);
      const seconds = (performance.now() - started) / 1000;
      this.swap({
        hnsw,
        ids,
        ordinals: ids.map((id) => this.catalog.ordinalOf(id)),
        labels: new Map(ids.map((id, i) => [id, i])),
        ef: this.config.ANN_EF_SEARCH,
      });
      this.buildSeconds.set(seconds);
      this.logger.log(
        `nearest-neighbour index over ${ids.length} videos built in ${seconds.toFixed(1)} s ` +
          `(M=${this.config.ANN_M}, efConstruction=${this.config.ANN_EF_CONSTRUCTION}, rss +${((process.memoryUsage().rss - rssBefore) / 2 ** 20).toFixed(0)} MiB)`,
      );
    } finally {
      this.worker = null;
      await unlink(file).catch(() => undefined);
    }
  }

  private swap(next: LiveIndex | null): void {
    this.live = next;
    this.elements.set(next?.ids.length ?? 0);
    const changes = this.pending;
    this.pending = [];
    if (next && changes.length) this.apply(changes);
  }

  /** Single-video changes: add or move points, mark taken-down (or embedding-less) videos deleted. */
  private apply(changed: CatalogVideo[]): void {
    if (this.building) this.pending.push(...changed);
    const live = this.live;
    if (!live) return;
    const dim = this.config.EMBEDDING_DIM;
    for (const v of changed) {
      const label = live.labels.get(v.id);
      const usable = v.active && v.embedding?.length === dim;
      try {
        if (!usable) {
          if (label !== undefined) live.hnsw.markDelete(label);
          continue;
        }
        if (label === undefined) {
          const next = live.ids.length;
          if (next >= live.hnsw.getMaxElements()) live.hnsw.resizeIndex(Math.ceil(live.hnsw.getMaxElements() * 1.5));
          live.ids.push(v.id);
          live.ordinals.push(this.catalog.ordinalOf(v.id));
          live.labels.set(v.id, next);
          live.hnsw.addPoint(Array.from(v.embedding!), next);
        } else {
          try {
            live.hnsw.unmarkDelete(label);
          } catch {
            // not deleted: nothing to undo
          }
          live.hnsw.addPoint(Array.from(v.embedding!), label);
        }
      } catch (err) {
        this.logger.warn(`index update for ${v.id} failed: ${(err as Error).message}`);
      }
    }
    this.elements.set(live.ids.length);
  }
}
