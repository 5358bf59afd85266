import { Registry } from 'prom-client';
import { CatalogSnapshotService } from '../../catalog/catalog-snapshot.service';
import { AppConfig } from '../../config/app-config';
import { CatalogVideo } from '../../features/catalog-video';
import { WarmupService } from '../../lifecycle/warmup.service';
import { createRng } from '../../training/model/mlp';
import { AnnIndexService } from './ann-index.service';

const DIM = 16;

function unit(rng: () => number): Float32Array {
  const v = Float32Array.from({ length: DIM }, () => rng() - 0.5);
  const n = Math.hypot(...v);
  return v.map((x) => x / n);
}

/** The catalog as the index sees it: values, get, and refresh notifications. */
class FakeCatalog {
  readonly videos = new Map<string, CatalogVideo>();
  private listener: ((changed: CatalogVideo[] | 'all') => void) | null = null;
  values() {
    return this.videos.values();
  }
  get(id: string) {
    return this.videos.get(id);
  }
  private readonly ordinals = new Map<string, number>();
  ordinalOf(id: string) {
    if (!this.ordinals.has(id)) this.ordinals.set(id, this.ordinals.size);
    return this.ordinals.get(id)!;
  }
  onRefresh(listener: (changed: CatalogVideo[] | 'all') => void) {
    this.listener = listener;
  }
  set(v: CatalogVideo) {
    this.videos.set(v.id, v);
    this.listener!([v]);
  }
  reloadAll() {
    this.listener!('all');
  }
}

const video = (id: string, embedding: Float32Array | null, active = true): CatalogVideo => ({
  id,
  creatorId: 'c',
  title: id,
  category: 'x',
  tags: [],
  durationMs: 1,
  createdAt: 0,
  embedding,
  active,
});

function bruteForce(catalog: FakeCatalog, q: Float32Array, k: number): string[] {
  return [...catalog.values()]
    .filter((v) => v.active && v.embedding)
    .map((v) => ({ id: v.id, s: v.embedding!.reduce((acc, x, i) => acc + x * q[i], 0) }))
    .sort((a, b) => b.s - a.s)
    .slice(0, k)
    .map((e) => e.id);
}

describe(AnnIndexService.name, () => {
  const rng = createRng(5);
  const catalog = new FakeCatalog();
  for (let i = 0; i < 3000; i++) catalog.videos.set(`v${i}`, video(`v${i}`, i % 10 === 0 ? null : unit(rng)));
  const config = Object.assign(new AppConfig(), { EMBEDDING_DIM: DIM, ANN_EF_SEARCH: 100 });
  const warmup = new WarmupService();
  const index = new AnnIndexService(catalog as unknown as CatalogSnapshotService, config, new Registry(), warmup);
  index.onModuleInit();

  afterAll(() => index.onApplicationShutdown());

  it('answers null until built, then finds the true nearest neighbours; the boot build holds the warm-up', async () => {
    const query = Array.from(unit(rng));
    expect(index.search(query, 10)).toBeNull();
    catalog.reloadAll();
    expect(warmup.waitingFor).toEqual(['ann_index']);
    await index.rebuild();
    await new Promise((r) => setImmediate(r));
    expect(warmup.waitingFor).toEqual([]);
    expect(index.size).toBe(2700);
    let hits = 0;
    for (let q = 0; q < 20; q++) {
      const v = unit(rng);
      const truth = new Set(bruteForce(catalog, v, 10));
      hits += index.search(Array.from(v), 10)!.filter((id) => truth.has(id)).length;
    }
    expect(hits / 200).toBeGreaterThan(0.95);
    // The same neighbours as catalog ordinals, for the candidate pool.
    const ids = index.search(query, 10)!;
    expect(Array.from(index.searchOrdinals(query, 10)!)).toEqual(ids.map((id) => catalog.ordinalOf(id)));
    expect(index.nearest(query, 10)).toEqual(index.searchOrdinals(query, 10));
  });

  it('applies single-video changes in place: uploads are found, takedowns are not', () => {
    const target = unit(rng);
    catalog.set(video('new', target));
    expect(index.search(Array.from(target), 1)).toEqual(['new']);
    expect(index.searchOrdinals(Array.from(target), 1)).toEqual(Int32Array.of(catalog.ordinalOf('new')));
    catalog.set(video('new', target, false));
    expect(index.search(Array.from(target), 5)).not.toContain('new');
    catalog.set(video('new', target, true));
    expect(index.search(Array.from(target), 1)).toEqual(['new']);
  });

  it('rebuilds in the background and swaps the new index in, without holding readiness again', async () => {
    const target = unit(rng);
    catalog.videos.set('late', video('late', target));
    catalog.reloadAll();
    expect(warmup.waitingFor).toEqual([]);
    await index.rebuild();
    expect(index.size).toBe(2702);
    expect(index.search(Array.from(target), 1)).toEqual(['late']);
  });
});
