import { Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { CatalogVideo } from '../features/catalog-video';
import { PubSubService } from '../redis/pubsub.service';
import { RedisKeys } from '../redis/redis-keys';
import { CatalogRepository } from './catalog.repository';
import { videoIdHash } from './video-id-hash';
import { keepTouched } from '../common/touch-rows';

/** Message on the catalog channel: changed ids, or `all` after bulk changes (e.g. new learned embeddings). */
export interface CatalogChange {
  ids?: string[];
  all?: boolean;
}

type Listener = (changed: CatalogVideo[] | 'all') => void;

/** How long an id that Postgres does not have is not looked up again (loadMissing). */
const NOT_FOUND_TTL_MS = 10_000;
const NOT_FOUND_MAX = 10_000;

/** Lookups by ordinal, for the feed's hot path (see CatalogSnapshotService.ordinalOf). */
export interface CatalogOrdinals {
  /** The id's ordinal, or -1 if this process never saw the id. */
  findOrdinal(id: string): number;
  /** The video at an ordinal, if the catalog holds it. */
  videoAt(ordinal: number): CatalogVideo | undefined;
  /** True when the catalog holds the video at this ordinal and it is active. */
  isActive(ordinal: number): boolean;
  /** The upload time (epoch ms) of the active video at this ordinal; NaN when it is taken down or not in the catalog. */
  activeCreatedAt(ordinal: number): number;
  /** Goes up each time the catalog stores a new object for the ordinal's video (an edit, a reload). */
  versionAt(ordinal: number): number;
  /** videoIdHash of the ordinal's id (0 for an ordinal never given). */
  idHashAt(ordinal: number): number;
  /**
   * Reads what activeCreatedAt, idHashAt and videoAt read for each ordinal, in one short
   * loop with many cache misses in flight (see touchRows), so a loop that checks the
   * ordinals one by one afterwards finds them cached.
   */
  touch(ordinals: Int32Array): void;
}

/**
 * The catalog held in memory by every process that needs it on a hot path (feed
 * candidates and features, event processing). Loaded at boot, kept current through
 * the catalog pub/sub channel that admin writes and training publish on.
 */
@Injectable()
export class CatalogSnapshotService implements OnApplicationBootstrap, CatalogOrdinals {
  private readonly logger = new Logger(CatalogSnapshotService.name);
  private videos = new Map<string, CatalogVideo>();
  /** Every id this process has seen -> its ordinal; never reused, so arrays indexed by ordinal stay valid. */
  private readonly ordinals = new Map<string, number>();
  private readonly byOrdinal: (CatalogVideo | undefined)[] = [];
  /** 1 where the ordinal's video is in the catalog and active. */
  private activeByOrdinal = new Uint8Array(1024);
  /** Per ordinal: the active video's createdAt, NaN otherwise (the candidate filter reads this, not the scattered video objects). */
  private activeCreatedAtByOrdinal = new Float64Array(1024).fill(NaN);
  /** Per ordinal: how many objects the catalog has stored for the video. */
  private versions = new Uint32Array(1024);
  /** Per ordinal: videoIdHash of its id (the candidate filter's exclusion test reads this, not the video's id). */
  private idHashes = new Int32Array(1024);
  private readonly ordinalLists = new WeakMap<readonly string[], Int32Array>();
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

  /**
   * A small integer for a video id, the same for the life of the process (given on first
   * sight, never reused). The feed's hot path works on ordinals: candidate lists, the
   * filters and the stats cache index typed arrays with them instead of hashing ids and
   * reading video objects scattered over the heap.
   */
  ordinalOf(id: string): number {
    let ordinal = this.ordinals.get(id);
    if (ordinal === undefined) {
      ordinal = this.ordinals.size;
      this.ordinals.set(id, ordinal);
      this.byOrdinal.push(undefined);
      if (ordinal >= this.activeByOrdinal.length) {
        const active = new Uint8Array(this.activeByOrdinal.length * 2);
        active.set(this.activeByOrdinal);
        this.activeByOrdinal = active;
        const versions = new Uint32Array(this.versions.length * 2);
        versions.set(this.versions);
        this.versions = versions;
        const createdAt = new Float64Array(this.activeCreatedAtByOrdinal.length * 2).fill(NaN);
        createdAt.set(this.activeCreatedAtByOrdinal);
        this.activeCreatedAtByOrdinal = createdAt;
        const idHashes = new Int32Array(this.idHashes.length * 2);
        idHashes.set(this.idHashes);
        this.idHashes = idHashes;
      }
      this.idHashes[ordinal] = videoIdHash(id);
    }
    return ordinal;
  }

  findOrdinal(id: string): number {
    return this.ordinals.get(id) ?? -1;
  }

  videoAt(ordinal: number): CatalogVideo | undefined {
    return this.byOrdinal[ordinal];
  }

  isActive(ordinal: number): boolean {
    return this.activeByOrdinal[ordinal] === 1;
  }

  activeCreatedAt(ordinal: number): number {
    return this.activeCreatedAtByOrdinal[ordinal];
  }

  versionAt(ordinal: number): number {
    return this.versions[ordinal];
  }

  idHashAt(ordinal: number): number {
    return this.idHashes[ordinal];
  }

  touch(ordinals: Int32Array): void {
    const createdAt = this.activeCreatedAtByOrdinal;
    const hashes = this.idHashes;
    const videos = this.byOrdinal;
    const limit = this.ordinals.size;
    let sum = 0;
    for (let i = 0; i < ordinals.length; i++) {
      const o = ordinals[i];
      if (o >= 0 && o < limit) sum += createdAt[o] + hashes[o] + (videos[o] === undefined ? 0 : 1);
    }
    keepTouched(sum);
  }

  /**
   * The ordinals of a list of ids, computed once per list object and kept as long as the
   * list lives: for lists that are replaced, never changed, such as the candidate lists.
   */
  ordinalsOf(ids: readonly string[]): Int32Array {
    let out = this.ordinalLists.get(ids);
    if (!out) {
      out = new Int32Array(ids.length);
      for (let i = 0; i < ids.length; i++) out[i] = this.ordinalOf(ids[i]);
      this.ordinalLists.set(ids, out);
    }
    return out;
  }

  /** Called with the changed videos (or 'all') after every refresh. */
  onRefresh(listener: Listener): void {
    this.listeners.push(listener);
  }

  async reloadAll(): Promise<void> {
    const started = Date.now();
    const next = new Map<string, CatalogVideo>();
    for await (const page of this.repository.pages()) for (const v of page) next.set(v.id, v);
    for (const [id, ordinal] of this.ordinals) {
      if (next.has(id)) continue;
      this.byOrdinal[ordinal] = undefined;
      this.activeByOrdinal[ordinal] = 0;
      this.activeCreatedAtByOrdinal[ordinal] = NaN;
      this.versions[ordinal]++;
    }
    for (const v of next.values()) this.index(v);
    this.videos = next;
    this.loaded = true;
    this.logger.log(`catalog loaded: ${next.size} videos in ${Date.now() - started} ms`);
    this.notify('all');
  }

  async reloadIds(ids: string[]): Promise<void> {
    const found = await this.repository.findByIds(ids);
    for (const v of found) {
      this.videos.set(v.id, v);
      this.index(v);
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

  private index(v: CatalogVideo): void {
    const ordinal = this.ordinalOf(v.id);
    this.byOrdinal[ordinal] = v;
    this.activeByOrdinal[ordinal] = v.active ? 1 : 0;
    this.activeCreatedAtByOrdinal[ordinal] = v.active ? v.createdAt : NaN;
    this.versions[ordinal]++;
  }

  private notify(changed: CatalogVideo[] | 'all'): void {
    for (const l of this.listeners) l(changed);
  }
}
