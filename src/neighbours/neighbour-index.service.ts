import { Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { CatalogSnapshotService } from '../catalog/catalog-snapshot.service';
import { ItemNeighbours } from '../features/item-neighbours';
import { PubSubService } from '../redis/pubsub.service';
import { RedisKeys } from '../redis/redis-keys';
import { LatestVersion } from '../common/latest-version';
import { ItemNeighboursRepository, StoredNeighbours } from './item-neighbours.repository';

const ROWS_PER_TURN = 5_000;

/**
 * The newest training run's item-to-item neighbours, keyed by catalog ordinal, for the
 * feed's history features and item-to-item source. Loaded at boot and whenever training
 * announces a new run on the neighbours channel; the previous set serves until the new
 * one is ready. Null until a run exists.
 */
@Injectable()
export class NeighbourIndexService implements OnApplicationBootstrap {
  private readonly logger = new Logger(NeighbourIndexService.name);
  private readonly loaded: LatestVersion<StoredNeighbours, ItemNeighbours>;

  constructor(
    private readonly repository: ItemNeighboursRepository,
    private readonly catalog: CatalogSnapshotService,
    private readonly pubsub: PubSubService,
    private readonly keys: RedisKeys,
  ) {
    this.loaded = new LatestVersion(
      'item neighbours',
      this.logger,
      (version) => this.repository.read(version),
      (stored) => this.toOrdinals(stored),
      (stored) => `${stored.videoIds.length} videos, ${stored.neighbours.length} pairs`,
    );
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.pubsub.subscribe(this.keys.neighboursChannel, (version) => void this.load(version));
    await this.load();
  }

  get index(): ItemNeighbours | null {
    return this.loaded.value;
  }

  get version(): string | null {
    return this.loaded.version;
  }

  /** Loads the named run (default: the newest) unless it is the one serving. */
  load(version?: string): Promise<void> {
    return this.loaded.load(version);
  }

  private async toOrdinals(stored: StoredNeighbours): Promise<ItemNeighbours> {
    const ordinals = Int32Array.from(stored.videoIds, (id) => this.catalog.ordinalOf(id));
    let keys = 0;
    for (const o of ordinals) keys = Math.max(keys, o + 1);
    const rows = new Map<number, { ids: Int32Array; co: Float32Array; next: Float32Array }>();
    const engagements = new Float32Array(keys);
    for (let i = 0; i < ordinals.length; i++) {
      engagements[ordinals[i]] = stored.engagements[i];
      const from = stored.offsets[i];
      const to = stored.offsets[i + 1];
      if (to > from) {
        rows.set(ordinals[i], {
          ids: Int32Array.from(stored.neighbours.subarray(from, to), (j) => ordinals[j]),
          co: stored.co.subarray(from, to),
          next: stored.next.subarray(from, to),
        });
      }
      if (i % ROWS_PER_TURN === ROWS_PER_TURN - 1) await yieldToLoop();
    }
    return ItemNeighbours.fromRows(keys, rows, engagements);
  }
}
