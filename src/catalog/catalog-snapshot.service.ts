import { Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { CatalogVideo } from '../features/catalog-video';
import { PubSubService } from '../redis/pubsub.service';
import { RedisKeys } from '../redis/redis-keys';
import { CatalogRepository } from './catalog.repository';

/** Message on the catalog channel: changed ids, or `all` after bulk changes (e.g. new learned embeddings). */
export interface CatalogChange {
  ids?: string[];
  all?: boolean;
}

type Listener = (changed: CatalogVideo[] | 'all') => void;

/** How long an id that Postgres does not have is not looked up again (loadMissing). */
const NOT_FOUND_TTL_MS = 10_000;
const NOT_FOUND_MAX = 10_000;

/**
 * The catalog held in memory by every process that needs it on a hot path (feed
 * candidates and features, event processing). Loaded at boot, kept current through
 * the catalog pub/sub channel that admin writes and training publish on.
 */
@Injectable()
export class CatalogSnapshotService implements OnApplicationBootstrap {
  private readonly logger = new Logger(CatalogSnapshotService.name);
  private videos = new Map<string, CatalogVideo>();
  /** Ids loadMissing found in no table, and until when it will not ask again. */
  private readonly notFoundUntil = new Map<string, number>();
  private readonly lookups = new Map<string, Promise<void>>();
  private readonly listeners: Listener[] = [];
  private loaded = false;

  constructor(
    private readonly repository: CatalogRepository,
    private readonly pubsub: PubSubService,
    private readonly keys: RedisKeys,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.pubsub.subscribe(this.keys.catalogChannel, (msg) => this.onChange(JSON.parse(msg) as CatalogChange));
    await this.reloadAll();
  }

  get isLoaded(): boolean {
    return this.loaded;
  }

  get size(): number {
    return this.videos.size;
  }

  get(id: string): CatalogVideo | undefined {
    return this.videos.get(id);
  }

  values(): IterableIterator<CatalogVideo> {
    return this.videos.values();
  }

  /** Called with the changed videos (or 'all') after every refresh. */
  onRefresh(listener: Listener): void {
    this.listeners.push(listener);
  }

  async reloadAll(): Promise<void> {
    const started = Date.now();
    const next = new Map<string, CatalogVideo>();
    for await (const page of this.repository.pages()) for (const v of page) next.set(v.id, v);
    this.videos = next;
    this.loaded = true;
    this.logger.log(`catalog loaded: ${next.size} videos in ${Date.now() - started} ms`);
    this.notify('all');
  }

  async reloadIds(ids: string[]): Promise<void> {
    const found = await this.repository.findByIds(ids);
    for (const v of found) {
      this.videos.set(v.id, v);
      this.notFoundUntil.delete(v.id);
    }
    if (found.length > 0) this.notify(found);
  }

  /**
   * Loads from Postgres the given videos this snapshot does not hold: one added a moment
   * ago may not have reached this process yet (changes arrive by pub/sub). Looks up at
   * most `max` distinct ids (none when more are missing); rejects if Postgres cannot answer.
   * An id Postgres does not have is not asked again for NOT_FOUND_TTL_MS, and concurrent
   * callers asking for the same id share one query.
   */
  async loadMissing(ids: Iterable<string>, max = 50): Promise<void> {
    if (!this.loaded) return;
    const now = Date.now();
    const missing = new Set<string>();
    const pending = new Set<Promise<void>>();
    for (const id of ids) {
      if (this.videos.has(id) || missing.has(id) || (this.notFoundUntil.get(id) ?? 0) > now) continue;
      const inFlight = this.lookups.get(id);
      if (inFlight) pending.add(inFlight);
      else missing.add(id);
    }
    if (missing.size > max) return;
    if (missing.size > 0) {
      const looked = [...missing];
      const lookup = this.reloadIds(looked)
        .then(() => {
          const until = Date.now() + NOT_FOUND_TTL_MS;
          if (this.notFoundUntil.size > NOT_FOUND_MAX) this.notFoundUntil.clear();
          for (const id of looked) if (!this.videos.has(id)) this.notFoundUntil.set(id, until);
        })
        .finally(() => {
          for (const id of looked) if (this.lookups.get(id) === lookup) this.lookups.delete(id);
        });
      for (const id of looked) this.lookups.set(id, lookup);
      pending.add(lookup);
    }
    await Promise.all(pending);
  }

  /** Tells every process (this one included) that these videos changed. */
  async publishChange(change: CatalogChange): Promise<void> {
    await this.pubsub.publish(this.keys.catalogChannel, JSON.stringify(change));
  }

  private async onChange(change: CatalogChange): Promise<void> {
    if (change.all) await this.reloadAll();
    else if (change.ids?.length) await this.reloadIds(change.ids);
  }

  private notify(changed: CatalogVideo[] | 'all'): void {
    for (const l of this.listeners) l(changed);
  }
}
