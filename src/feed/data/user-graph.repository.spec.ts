import { ServiceUnavailableException } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AppConfig } from '../../config/app-config';
import { WarmupService } from '../../lifecycle/warmup.service';
import { UserGraphRepository } from './user-graph.repository';

type Row = { user_id?: string; kind?: 'f' | 'b'; creator_id: string };

/** Postgres as the repository sees it: each query waits until the test answers (or fails) it. */
class HeldDatabase {
  readonly pending: { sql: string; params: unknown[]; answer: (rows: Row[]) => void; fail: (err: Error) => void }[] = [];
  query(sql: string, params: unknown[] = []): Promise<Row[]> {
    return new Promise((answer, fail) => this.pending.push({ sql, params, answer, fail }));
  }
  /** Answers the oldest held query matching `what` (the user read: 'follows'; everyone's blocks: 'DISTINCT'). */
  release(what: string, rows: Row[]): void {
    const i = this.pending.findIndex((q) => q.sql.includes(what));
    if (i < 0) throw new Error(`no held query for ${what}`);
    this.pending.splice(i, 1)[0].answer(rows);
  }
  failAll(err: Error): void {
    for (const q of this.pending.splice(0)) q.fail(err);
  }
}

const tick = () => new Promise((r) => setImmediate(r));

describe(UserGraphRepository.name, () => {
  let db: HeldDatabase;
  let repository: UserGraphRepository;
  const config = Object.assign(new AppConfig(), { FEED_BLOCKS_WAIT_MS: 100 });

  beforeEach(() => {
    db = new HeldDatabase();
    repository = new UserGraphRepository(db as unknown as DataSource, config, new WarmupService());
    repository.onApplicationBootstrap();
  });

  afterEach(() => repository.onApplicationShutdown());

  it('filters with every creator anyone blocked while a new user’s own read is held back', async () => {
    db.release('DISTINCT', [{ creator_id: 'c1' }, { creator_id: 'c2' }]);
    await tick();
    const graph = await repository.get('u1', 5);
    expect(graph).toEqual({ follows: null, blocked: new Set(['c1', 'c2']), complete: false });
    // The held read still completes and fills the cache: the next request has the user's own graph.
    db.release('follows', [
      { kind: 'b', creator_id: 'c1' },
      { kind: 'f', creator_id: 'c9' },
    ]);
    await tick();
    expect(await repository.get('u1', 5)).toEqual({ follows: new Set(['c9']), blocked: new Set(['c1']), complete: true });
  });

  it('keeps applying a known user’s blocks while their refresh is held back or fails', async () => {
    db.release('DISTINCT', []);
    const first = repository.get('u2', 1000);
    db.release('follows', [{ kind: 'b', creator_id: 'c3' }]);
    expect((await first).blocked).toEqual(new Set(['c3']));
    const now = Date.now();
    const clock = jest.spyOn(Date, 'now').mockReturnValue(now + 61_000);
    try {
      expect(await repository.get('u2', 5)).toEqual({ follows: new Set(), blocked: new Set(['c3']), complete: true });
      await new Promise((r) => setTimeout(r, 150)); // the batched re-read
      expect(db.pending.filter((q) => q.sql.includes('follows'))).toHaveLength(1);
      db.failAll(new Error('connection terminated'));
      await tick();
      expect((await repository.get('u2', 5)).blocked).toEqual(new Set(['c3']));
    } finally {
      clock.mockRestore();
    }
  });

  it('re-reads the users whose entries expired together, in one query, and serves the cached entries meanwhile', async () => {
    db.release('DISTINCT', []);
    for (const [u, c] of [['u5', 'c5'], ['u6', 'c6'], ['u7', 'c7']]) {
      const first = repository.get(u, 1000);
      db.release('follows', [{ kind: 'b', creator_id: c }]);
      await first;
    }
    const clock = jest.spyOn(Date, 'now').mockReturnValue(Date.now() + 61_000);
    try {
      for (const u of ['u5', 'u6', 'u7', 'u5']) expect((await repository.get(u, 5)).complete).toBe(true);
      expect(db.pending).toHaveLength(0);
      await new Promise((r) => setTimeout(r, 150));
      expect(db.pending).toHaveLength(1);
      expect(db.pending[0].params).toEqual([['u5', 'u6', 'u7']]);
      db.release('follows', [
        { user_id: 'u5', kind: 'f', creator_id: 'c50' },
        { user_id: 'u6', kind: 'b', creator_id: 'c60' },
      ]);
      await tick();
      expect(await repository.get('u5', 5)).toEqual({ follows: new Set(['c50']), blocked: new Set(), complete: true });
      expect(await repository.get('u6', 5)).toEqual({ follows: new Set(), blocked: new Set(['c60']), complete: true });
      // u7 has no rows any more: its old block is gone, and nothing is re-read while the entries are fresh.
      expect(await repository.get('u7', 5)).toEqual({ follows: new Set(), blocked: new Set(), complete: true });
      await new Promise((r) => setTimeout(r, 150));
      expect(db.pending).toHaveLength(0);
    } finally {
      clock.mockRestore();
    }
  });

  it('waits past the budget for the user’s own blocks when everyone’s blocks were never read', async () => {
    db.failAll(new Error('connection refused'));
    await tick();
    const graph = repository.get('u3', 5);
    await new Promise((r) => setTimeout(r, 30));
    db.release('follows', [{ kind: 'b', creator_id: 'c4' }]);
    expect(await graph).toEqual({ follows: new Set(), blocked: new Set(['c4']), complete: true });
  });

  it('answers 503 rather than an unfiltered page when no blocks at all can be read', async () => {
    db.failAll(new Error('connection refused'));
    await tick();
    await expect(repository.get('u4', 5)).rejects.toBeInstanceOf(ServiceUnavailableException);
  });
});
