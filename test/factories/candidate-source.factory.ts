import { CatalogSnapshotService } from '../../src/catalog/catalog-snapshot.service';
import { emptyUserState, UserState } from '../../src/features/user-state';
import { CatalogLists, CatalogListsService } from '../../src/feed/data/catalog-lists.service';
import { CandidateContext, CandidateIds } from '../../src/feed/candidates/candidate-source';

/**
 * Fakes for a candidate source's unit spec: a catalog that numbers ids in the order it
 * first sees them, in-memory lists, and a request context. Copy a built-in source's
 * spec (src/feed/candidates/*.source.spec.ts) to start one for a new source.
 */
export class FakeCatalog {
  private readonly ids: string[] = [];
  private readonly ordinals = new Map<string, number>();

  ordinalsOf(ids: readonly string[]): Int32Array {
    return Int32Array.from(ids, (id) => {
      let ordinal = this.ordinals.get(id);
      if (ordinal === undefined) {
        ordinal = this.ids.push(id) - 1;
        this.ordinals.set(id, ordinal);
      }
      return ordinal;
    });
  }

  /** The ids a source returned, whether it answered with ids or catalog ordinals. */
  idsOf(found: CandidateIds): string[] {
    return Array.from(found as ArrayLike<string | number>, (x) => (typeof x === 'number' ? this.ids[x] : x));
  }

  asService(): CatalogSnapshotService {
    return this as unknown as CatalogSnapshotService;
  }
}

/** In-memory lists; `fallback` (the popularity blend) defaults to `popular`, credited to the `popular` source. */
export function fakeLists(lists: Partial<CatalogLists> = {}): CatalogListsService {
  const popular = lists.popular ?? [];
  const current: CatalogLists = {
    fresh: [],
    byCreator: new Map(),
    popular,
    popular30d: [],
    fallback: { ids: popular, sources: popular.map(() => 'popular') },
    byCategory: new Map(),
    exploration: [],
    ...lists,
  };
  return { current, fallback: current.fallback } as unknown as CatalogListsService;
}

type ContextOverrides = Partial<Omit<CandidateContext, 'user'>> & { user?: Partial<UserState> };

export function candidateContext(overrides: ContextOverrides = {}): CandidateContext {
  const { user, ...rest } = overrides;
  return {
    userId: 'u1',
    user: { ...emptyUserState(4), ...user },
    userHasEmbedding: false,
    follows: new Set(),
    history: null,
    sequence: null,
    now: Date.now(),
    limit: 10,
    ...rest,
  };
}
