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

type ColumnKind = 'f64' | 'i32' | 'u8';
type ColumnArray<K extends ColumnKind> = K extends 'f64' ? Float64Array : K extends 'i32' ? Int32Array : Uint8Array;
type Columns<S extends Record<string, ColumnKind>> = { [K in keyof S]: ColumnArray<S[K]> };

const MAKE: Record<ColumnKind, (n: number) => Float64Array | Int32Array | Uint8Array> = {
  f64: (n) => new Float64Array(n),
  i32: (n) => new Int32Array(n),
  u8: (n) => new Uint8Array(n),
};

/** Rows in time order as growable typed-array columns, one per field of `schema` (`at`, epoch ms, orders them). */
class ColumnTable<S extends { at: 'f64' } & Record<string, ColumnKind>> {
  length = 0;
  readonly columns: Columns<S>;

  constructor(
    private readonly schema: S,
    private readonly rows: string,
  ) {
    // Built property by property: Object.fromEntries would give a slow dictionary-mode object.
    const columns = {} as Record<string, Float64Array | Int32Array | Uint8Array>;
    for (const [name, kind] of Object.entries(schema)) columns[name] = MAKE[kind](1024);
    this.columns = columns as Columns<S>;
  }

  /** Room for one more row at time `at`, which must not be before the last one; returns its index. */
  append(at: number): number {
    const columns = this.columns as Record<string, Float64Array | Int32Array | Uint8Array>;
    if (this.length > 0 && at < columns.at[this.length - 1]) throw new RangeError(`${this.rows} must be pushed in time order`);
    const i = this.length++;
    if (this.length > columns.at.length) {
      for (const [name, kind] of Object.entries(this.schema)) {
        const next = MAKE[kind](Math.max(this.length, columns[name].length * 2));
        next.set(columns[name]);
        columns[name] = next;
      }
    }
    columns.at[i] = at;
    return i;
  }
}

const EVENT_COLUMNS = { at: 'f64', user: 'i32', video: 'i32', type: 'u8', watchMs: 'i32', request: 'i32' } as const;

/** The interaction log in time order, as compact columns (about 21 bytes an event). */
export class EventLog {
  private readonly table = new ColumnTable(EVENT_COLUMNS, 'events');

  get length(): number {
    return this.table.length;
  }
  get at(): Float64Array {
    return this.table.columns.at;
  }
  get user(): Int32Array {
    return this.table.columns.user;
  }
  get video(): Int32Array {
    return this.table.columns.video;
  }
  get type(): Uint8Array {
    return this.table.columns.type;
  }
  /** watchMs, -1 when absent. */
  get watchMs(): Int32Array {
    return this.table.columns.watchMs;
  }
  get request(): Int32Array {
    return this.table.columns.request;
  }

  push(at: number, user: number, video: number, type: EventType, watchMs: number | null, request: number): void {
    const i = this.table.append(at);
    const c = this.table.columns;
    c.user[i] = user;
    c.video[i] = video;
    c.type[i] = EVENT_TYPE_CODE[type];
    c.watchMs[i] = watchMs ?? -1;
    c.request[i] = request;
  }
}

const IMPRESSION_COLUMNS = { at: 'f64', user: 'i32', video: 'i32', request: 'i32' } as const;

/** Served impressions in time order, as columns; logged feature vectors kept by row. */
export class ImpressionLog {
  private readonly table = new ColumnTable(IMPRESSION_COLUMNS, 'impressions');
  /** Row -> feature vector logged at serving time, with the model version it was logged under. */
  readonly logged = new Map<number, { modelVersion: string; features: Float32Array }>();

  get length(): number {
    return this.table.length;
  }
  get at(): Float64Array {
    return this.table.columns.at;
  }
  get user(): Int32Array {
    return this.table.columns.user;
  }
  get video(): Int32Array {
    return this.table.columns.video;
  }
  get request(): Int32Array {
    return this.table.columns.request;
  }

  push(at: number, user: number, video: number, request: number, logged?: { modelVersion: string; features: Float32Array }): void {
    const i = this.table.append(at);
    const c = this.table.columns;
    c.user[i] = user;
    c.video[i] = video;
    c.request[i] = request;
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
