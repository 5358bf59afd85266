import { EVENT_TYPES, EventType } from '../../events/event-types';
import { CatalogVideo } from '../../features/catalog-video';

/** Interns strings to dense integer ids (users, request ids). */
export class Interner {
  private readonly ids = new Map<string, number>();
  readonly values: string[] = [];

  id(value: string): number {
    let id = this.ids.get(value);
    if (id === undefined) {
      id = this.values.length;
      this.ids.set(value, id);
      this.values.push(value);
    }
    return id;
  }

  lookup(value: string): number | undefined {
    return this.ids.get(value);
  }

  get size(): number {
    return this.values.length;
  }
}

export const EVENT_TYPE_CODE: Record<EventType, number> = Object.fromEntries(EVENT_TYPES.map((t, i) => [t, i])) as Record<EventType, number>;
export const NO_REQUEST = -1;
export const UNKNOWN_VIDEO = -1;

/** Growable columns of one numeric type. */
class Column<T extends Float64Array | Int32Array | Uint8Array> {
  constructor(
    public data: T,
    private readonly make: (n: number) => T,
  ) {}

  ensure(n: number): void {
    if (n <= this.data.length) return;
    const next = this.make(Math.max(n, this.data.length * 2));
    next.set(this.data);
    this.data = next;
  }
}

/** The interaction log in time order, as compact columns (about 21 bytes an event). */
export class EventLog {
  length = 0;
  private readonly atCol = new Column(new Float64Array(1024), (n) => new Float64Array(n));
  private readonly userCol = new Column(new Int32Array(1024), (n) => new Int32Array(n));
  private readonly videoCol = new Column(new Int32Array(1024), (n) => new Int32Array(n));
  private readonly typeCol = new Column(new Uint8Array(1024), (n) => new Uint8Array(n));
  /** watchMs, -1 when absent. */
  private readonly watchCol = new Column(new Int32Array(1024), (n) => new Int32Array(n));
  private readonly requestCol = new Column(new Int32Array(1024), (n) => new Int32Array(n));

  get at(): Float64Array {
    return this.atCol.data;
  }
  get user(): Int32Array {
    return this.userCol.data;
  }
  get video(): Int32Array {
    return this.videoCol.data;
  }
  get type(): Uint8Array {
    return this.typeCol.data;
  }
  get watchMs(): Int32Array {
    return this.watchCol.data;
  }
  get request(): Int32Array {
    return this.requestCol.data;
  }

  push(at: number, user: number, video: number, type: EventType, watchMs: number | null, request: number): void {
    if (this.length > 0 && at < this.atCol.data[this.length - 1]) throw new RangeError('events must be pushed in time order');
    const i = this.length++;
    for (const c of [this.atCol, this.userCol, this.videoCol, this.typeCol, this.watchCol, this.requestCol]) c.ensure(this.length);
    this.atCol.data[i] = at;
    this.userCol.data[i] = user;
    this.videoCol.data[i] = video;
    this.typeCol.data[i] = EVENT_TYPE_CODE[type];
    this.watchCol.data[i] = watchMs ?? -1;
    this.requestCol.data[i] = request;
  }
}

/** Served impressions in time order, as columns; logged feature vectors kept by row. */
export class ImpressionLog {
  length = 0;
  private readonly atCol = new Column(new Float64Array(1024), (n) => new Float64Array(n));
  private readonly userCol = new Column(new Int32Array(1024), (n) => new Int32Array(n));
  private readonly videoCol = new Column(new Int32Array(1024), (n) => new Int32Array(n));
  private readonly requestCol = new Column(new Int32Array(1024), (n) => new Int32Array(n));
  /** Row -> feature vector logged at serving time, with the model version it was logged under. */
  readonly logged = new Map<number, { modelVersion: string; features: Float32Array }>();

  get at(): Float64Array {
    return this.atCol.data;
  }
  get user(): Int32Array {
    return this.userCol.data;
  }
  get video(): Int32Array {
    return this.videoCol.data;
  }
  get request(): Int32Array {
    return this.requestCol.data;
  }

  push(at: number, user: number, video: number, request: number, logged?: { modelVersion: string; features: Float32Array }): void {
    if (this.length > 0 && at < this.atCol.data[this.length - 1]) throw new RangeError('impressions must be pushed in time order');
    const i = this.length++;
    for (const c of [this.atCol, this.userCol, this.videoCol, this.requestCol]) c.ensure(this.length);
    this.atCol.data[i] = at;
    this.userCol.data[i] = user;
    this.videoCol.data[i] = video;
    this.requestCol.data[i] = request;
    if (logged) this.logged.set(i, logged);
  }
}

/** The catalog as training sees it: content embeddings kept apart from learned ones. */
export interface TrainingCatalog {
  videos: CatalogVideo[];
  index: Map<string, number>;
  /** Content embedding per video (null if the catalog supplied none). */
  content: (Float32Array | null)[];
  /** Embedding learned by an earlier training run, per video. */
  learned: (Float32Array | null)[];
}

/** Everything the dataset is built from: the catalog, the log and the interned ids. */
export interface TrainingLog {
  catalog: TrainingCatalog;
  /** The follows table by user id: a user's state starts from it, as live processing and replay do. */
  follows: Map<string, string[]>;
  users: Interner;
  requests: Interner;
  events: EventLog;
  impressions: ImpressionLog;
}
