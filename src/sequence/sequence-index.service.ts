import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { HierarchicalNSW } from 'hnswlib-node';
import { unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InferenceSession, Tensor } from 'onnxruntime-node';
import { CatalogSnapshotService } from '../catalog/catalog-snapshot.service';
import { AppConfig } from '../config/app-config';
import { SequenceScores, sequenceInput } from '../features/sequence-scores';
import { UserState } from '../features/user-state';
import { buildHnswInWorker } from '../feed/ann/hnsw-build-worker';
import { SERVING_SESSION_OPTIONS } from '../models/onnx-session';
import { PubSubService } from '../redis/pubsub.service';
import { RedisKeys } from '../redis/redis-keys';
import { SEQUENCE_ONNX_ITEMS, SEQUENCE_ONNX_TYPES, SEQUENCE_ONNX_USER, sequenceOnnxInputs } from '../training/sequence/sequence-onnx-export';
import { SequenceModelRepository, StoredSequenceModel } from './sequence-model.repository';
import { LatestVersion } from '../common/latest-version';

/** One loaded sequence model: its encoder session, item vectors by catalog ordinal, and an inner-product index over them. */
interface LoadedSequenceModel {
  version: string;
  dim: number;
  maxLength: number;
  session: InferenceSession;
  /** Catalog ordinal -> model item (1-based; 0 for a video the model does not know). A typed array, not a Map of 100k id strings for the collector to mark. */
  itemByOrdinal: Int32Array;
  /** Rows by catalog ordinal (zeros for videos the model did not learn). */
  table: Float32Array;
  /** Index label -> catalog ordinal. */
  ordinals: Int32Array;
  hnsw: HierarchicalNSW | null;
  /** The search breadth set on `hnsw` (changed only when a request asks for more). */
  ef: number;
}

/**
 * The newest training run's sequence model, for the feed: one encoder inference per
 * request turns the user's recent engagement (the online state, so an event is in the
 * very next feed) into a vector that scores candidates (`sequence_score`) and retrieves
 * them (the `sequence` source, nearest by inner product). Loaded at boot and whenever
 * training announces a new model; the previous one serves until the new one is ready.
 */
@Injectable()
export class SequenceIndexService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(SequenceIndexService.name);
  private readonly loaded: LatestVersion<StoredSequenceModel, LoadedSequenceModel>;

  constructor(
    private readonly repository: SequenceModelRepository,
    private readonly catalog: CatalogSnapshotService,
    private readonly pubsub: PubSubService,
    private readonly keys: RedisKeys,
    private readonly config: AppConfig,
  ) {
    this.loaded = new LatestVersion(
      'sequence model',
      this.logger,
      (version) => this.repository.read(version),
      (stored) => this.open(stored),
      (stored, model) => `${stored.videoIds.length} videos, ${model.ordinals.length} learned`,
      (old) => old.session.release(),
    );
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.pubsub.subscribe(this.keys.sequenceChannel, (version) => void this.load(version));
    await this.load();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.loaded.settled();
    await this.loaded.value?.session.release();
  }

  get version(): string | null {
    return this.loaded.version;
  }

  /** Loads the named model (default: the newest) unless it is the one serving. */
  load(version?: string): Promise<void> {
    return this.loaded.load(version);
  }

  /**
   * The user's sequence scores: null without a model; scores of 0 for every video when
   * the user has no engaged video the model knows.
   */
  async forUser(user: UserState): Promise<SequenceScores | null> {
    const model = this.loaded.value;
    if (!model) return null;
    const { itemByOrdinal } = model;
    const itemOf = (id: string) => {
      const ordinal = this.catalog.findOrdinal(id);
      return ordinal >= 0 && ordinal < itemByOrdinal.length ? itemByOrdinal[ordinal] : 0;
    };
    const input = sequenceInput(user.recent, itemOf, model.maxLength);
    if (input.items.length === 0) return SequenceScores.of(null, model.table, model.dim);
    const { items, types } = sequenceOnnxInputs(model.maxLength, [input.items], [input.types]);
    const out = await model.session.run(
      { [SEQUENCE_ONNX_ITEMS]: new Tensor('int64', items, [1, model.maxLength]), [SEQUENCE_ONNX_TYPES]: new Tensor('int64', types, [1, model.maxLength]) },
      [SEQUENCE_ONNX_USER],
    );
    return SequenceScores.of(Float32Array.from(out[SEQUENCE_ONNX_USER].data as Float32Array), model.table, model.dim);
  }

  /** Catalog ordinals of the `k` videos the user vector scores highest; null while no index is built. */
  searchOrdinals(vector: Float32Array, k: number): Int32Array | null {
    const model = this.loaded.value;
    if (!model?.hnsw) return null;
    const n = Math.min(k, model.ordinals.length);
    if (n <= 0 || vector.length !== model.dim) return new Int32Array(0);
    const ef = Math.max(this.config.ANN_EF_SEARCH, n);
    if (ef !== model.ef) model.hnsw.setEf((model.ef = ef));
    const labels = model.hnsw.searchKnn(Array.from(vector), n).neighbors;
    return Int32Array.from(labels, (label) => model.ordinals[label]);
  }

  private async open(stored: StoredSequenceModel): Promise<LoadedSequenceModel> {
    const { dim, videoIds, itemVectors } = stored;
    const session = await InferenceSession.create(stored.encoder, SERVING_SESSION_OPTIONS);
    const rowOrdinals = Int32Array.from(videoIds, (id) => this.catalog.ordinalOf(id));
    let keys = 0;
    for (const o of rowOrdinals) keys = Math.max(keys, o + 1);
    const table = new Float32Array(keys * dim);
    const learned: number[] = [];
    const itemByOrdinal = new Int32Array(keys);
    videoIds.forEach((_id, i) => {
      itemByOrdinal[rowOrdinals[i]] = i + 1;
      const row = itemVectors.subarray(i * dim, (i + 1) * dim);
      if (!row.some((x) => x !== 0)) return;
      table.set(row, rowOrdinals[i] * dim);
      learned.push(i);
    });
    const ordinals = Int32Array.from(learned, (i) => rowOrdinals[i]);
    return { version: stored.version, dim, maxLength: stored.maxLength, session, itemByOrdinal, table, ordinals, hnsw: await this.buildIndex(dim, learned, itemVectors), ef: 0 };
  }

  /** An inner-product HNSW index over the learned rows (label = position in `learned`), built on a worker thread. */
  private async buildIndex(dim: number, learned: number[], itemVectors: Float32Array): Promise<HierarchicalNSW | null> {
    if (learned.length === 0) return null;
    const vectors = new Float32Array(learned.length * dim);
    learned.forEach((i, label) => vectors.set(itemVectors.subarray(i * dim, (i + 1) * dim), label * dim));
    const file = join(tmpdir(), `reelrank-sequence-${process.pid}-${Date.now()}.hnsw`);
    try {
      await buildHnswInWorker({ space: 'ip', dim, count: learned.length, vectors, capacity: learned.length, m: this.config.ANN_M, efConstruction: this.config.ANN_EF_CONSTRUCTION, file });
      const hnsw = new HierarchicalNSW('ip', dim);
      await hnsw.readIndex(file);
      return hnsw;
    } finally {
      await unlink(file).catch(() => undefined);
    }
  }
}
