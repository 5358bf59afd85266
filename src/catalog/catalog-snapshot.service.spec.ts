import { ConsoleLogger, Logger } from '@nestjs/common';
import { CatalogVideo } from '../features/catalog-video';
import { PubSubService } from '../redis/pubsub.service';
import { RedisKeys } from '../redis/redis-keys';
import { CatalogRepository } from './catalog.repository';
import { CatalogSnapshotService } from './catalog-snapshot.service';
import { videoIdHash } from './video-id-hash';

const video = (id: string): CatalogVideo => ({ id, creatorId: 'c', title: '', category: 'x', tags: [], durationMs: 1000, createdAt: 0, embedding: null, active: true });

/** Postgres as the snapshot sees it: the rows it has, every findByIds it was sent, and an outage switch. */
class FakeRepository {
  rows = new Map<string, CatalogVideo>([['known', video('known')]]);
  asked: string[][] = [];
  down = false;
  async *pages(): AsyncGenerator<CatalogVideo[]> {
    yield [this.rows.get('known')!];
  }
  async findByIds(ids: string[]): Promise<CatalogVideo[]> {
    this.asked.push(ids);
    await new Promise((r) => setTimeout(r, 5));
    if (this.down) throw new Error('connect ECONNREFUSED');
    return ids.flatMap((id) => (this.rows.has(id) ? [this.rows.get(id)!] : []));
  }
}

describe('CatalogSnapshotService.loadMissing', () => {
  beforeAll(() => Logger.overrideLogger(false));
  afterAll(() => Logger.overrideLogger(new ConsoleLogger()));

  let repository: FakeRepository;
  let catalog: CatalogSnapshotService;
  let notified: (CatalogVideo[] | 'all')[];

  beforeEach(async () => {
    repository = new FakeRepository();
    catalog = new CatalogSnapshotService(repository as unknown as CatalogRepository, {} as PubSubService, new RedisKeys('t'));
    await catalog.reloadAll();
    notified = [];
    catalog.onRefresh((changed) => notified.push(changed));
  });

  it('loads a video added after the snapshot, once for concurrent callers, and tells the listeners', async () => {
    repository.rows.set('new', video('new'));
    await Promise.all([catalog.loadMissing(['new', 'known']), catalog.loadMissing(['new'])]);
    expect(catalog.get('new')?.id).toBe('new');
    expect(repository.asked).toEqual([['new']]);
    expect(notified).toEqual([[repository.rows.get('new')]]);
  });

  it('does not ask again for an id Postgres does not have, and tells no listener about nothing', async () => {
    await catalog.loadMissing(['ghost']);
    await catalog.loadMissing(['ghost']);
    expect(repository.asked).toEqual([['ghost']]);
    expect(notified).toEqual([]);
    expect(catalog.get('ghost')).toBeUndefined();
  });

  it('rejects while Postgres is down and asks again afterwards; skips a batch with too many unknown ids', async () => {
    repository.down = true;
    await expect(catalog.loadMissing(['later'])).rejects.toThrow('ECONNREFUSED');
    repository.down = false;
    repository.rows.set('later', video('later'));
    await catalog.loadMissing(['later']);
    expect(catalog.get('later')?.id).toBe('later');
    await catalog.loadMissing(Array.from({ length: 51 }, (_, i) => `many-${i}`));
    expect(repository.asked).toEqual([['later'], ['later']]);
  });
});

describe('CatalogSnapshotService ordinals', () => {
  beforeAll(() => Logger.overrideLogger(false));
  afterAll(() => Logger.overrideLogger(new ConsoleLogger()));

  it('gives every id one ordinal for the life of the process, across edits, reloads and removals', async () => {
    const repository = new FakeRepository();
    // More videos than the active flags' initial capacity.
    for (let i = 0; i < 3000; i++) repository.rows.set(`v${i}`, video(`v${i}`));
    repository.rows.set('b', video('b'));
    repository.pages = async function* () {
      yield [...repository.rows.values()];
    };
    const catalog = new CatalogSnapshotService(repository as unknown as CatalogRepository, {} as PubSubService, new RedisKeys('t'));
    await catalog.reloadAll();
    // The dense upload-time column agrees with the objects: NaN wherever no active video is.
    const columnAgrees = () => {
      for (let o = 0; o < 3010; o++) expect(catalog.activeCreatedAt(o)).toBe(catalog.isActive(o) ? catalog.videoAt(o)!.createdAt : NaN);
    };
    columnAgrees();
    const b = catalog.findOrdinal('b');
    const known = catalog.findOrdinal('known');
    expect(new Set([...repository.rows.keys()].map((id) => catalog.findOrdinal(id))).size).toBe(3002);
    expect([...repository.rows.keys()].every((id) => catalog.isActive(catalog.findOrdinal(id)))).toBe(true);
    expect(catalog.videoAt(b)).toBe(repository.rows.get('b'));
    expect(catalog.findOrdinal('never-seen')).toBe(-1);
    // The dense id-hash column has every id's hash at its ordinal, past the initial capacity too.
    expect([...repository.rows.keys()].every((id) => catalog.idHashAt(catalog.findOrdinal(id)) === videoIdHash(id))).toBe(true);
    // Touching ordinals (a cache hint) skips those the catalog never gave, and changes nothing.
    expect(() => catalog.touch(Int32Array.of(-1, b, 1 << 30))).not.toThrow();
    expect(catalog.videoAt(b)).toBe(repository.rows.get('b'));

    // A list's ordinals are computed once per list; an id the catalog lacks gets one too, for its video may come.
    const list = ['b', 'later', 'known'];
    const ordinals = catalog.ordinalsOf(list);
    expect(catalog.ordinalsOf(list)).toBe(ordinals);
    expect([ordinals[0], ordinals[2]]).toEqual([b, known]);
    expect(catalog.videoAt(ordinals[1])).toBeUndefined();
    expect(catalog.isActive(ordinals[1])).toBe(false);

    // Taken down by an edit: same ordinal, no longer active, a new version.
    const before = catalog.versionAt(b);
    repository.rows.set('b', { ...video('b'), active: false });
    await catalog.reloadIds(['b']);
    expect(catalog.findOrdinal('b')).toBe(b);
    expect(catalog.versionAt(b)).toBeGreaterThan(before);
    expect(catalog.isActive(b)).toBe(false);
    expect(catalog.videoAt(b)?.active).toBe(false);
    columnAgrees();

    // A full reload without 'b' and with 'later': 'b' is gone, 'later' fills the ordinal the list holds.
    repository.rows.delete('b');
    repository.rows.set('later', video('later'));
    await catalog.reloadAll();
    expect([catalog.findOrdinal('b'), catalog.findOrdinal('known')]).toEqual([b, known]);
    expect(catalog.videoAt(b)).toBeUndefined();
    expect(catalog.isActive(b)).toBe(false);
    expect(catalog.videoAt(ordinals[1])).toBe(repository.rows.get('later'));
    expect(catalog.isActive(ordinals[1])).toBe(true);
    columnAgrees();
    // Every object a reload stored is a new version; so is a removal.
    expect(catalog.versionAt(known)).toBeGreaterThan(1);
    expect(catalog.versionAt(b)).toBeGreaterThan(before + 1);
  });
});
