import fc from 'fast-check';
import { ThrottleSync, ThrottleWindows } from './throttle-windows';

/** Redis as the sync script sees it: a counter per key, set to expire at its first hits. */
class ModelRedis {
  private readonly counters = new Map<string, { hits: number; expiresAt: number }>();

  add(sync: ThrottleSync, now: number): [number, number] {
    let c = this.counters.get(sync.key);
    if (!c || c.expiresAt <= now) {
      c = { hits: 0, expiresAt: now + sync.ttlMs };
      this.counters.set(sync.key, c);
    }
    const before = c.hits;
    c.hits += sync.hits;
    if (c.hits > sync.limit && before <= sync.limit && sync.blockMs > sync.ttlMs) c.expiresAt = now + sync.blockMs;
    return [c.hits, c.expiresAt - now];
  }
}

const TTL = 1000;

describe(ThrottleWindows.name, () => {
  it('counts hits in a fixed window, blocks over the limit, and starts again when the window ends', () => {
    const w = new ThrottleWindows();
    const hits = [0, 10, 20, 30].map((t) => w.hit('a', TTL, 3, TTL, 1000 + t));
    expect(hits.map((h) => [h.totalHits, h.blocked])).toEqual([[1, false], [2, false], [3, false], [4, true]]);
    expect(hits[3].msLeft).toBe(970);
    expect(w.hit('b', TTL, 3, TTL, 1040).totalHits).toBe(1);
    expect(w.hit('a', TTL, 3, TTL, 2000)).toEqual({ totalHits: 1, msLeft: TTL, blocked: false });
  });

  it('extends the window to the block when the key goes over its limit and the block is longer', () => {
    const w = new ThrottleWindows();
    w.hit('a', TTL, 1, 5000, 0);
    expect(w.hit('a', TTL, 1, 5000, 100)).toEqual({ totalHits: 2, msLeft: 5000, blocked: true });
    expect(w.hit('a', TTL, 1, 5000, 4000).blocked).toBe(true);
    expect(w.hit('a', TTL, 1, 5000, 5100).blocked).toBe(false);
  });

  it('adds what other instances counted once Redis answers, and keeps counting its own hits meanwhile', () => {
    const redis = new ModelRedis();
    const [a, b] = [new ThrottleWindows(), new ThrottleWindows()];
    for (let i = 0; i < 3; i++) a.hit('k', TTL, 5, TTL, 0);
    for (const s of a.takeUnsent()) a.shared(s, ...redis.add(s, 10), 10);
    expect(b.hit('k', TTL, 5, TTL, 20).totalHits).toBe(1); // b has not heard from Redis yet
    const sent = b.takeUnsent();
    expect(b.hit('k', TTL, 5, TTL, 25).totalHits).toBe(2); // counted while the sync is in flight
    for (const s of sent) b.shared(s, ...redis.add(s, 30), 30);
    expect(b.hit('k', TTL, 5, TTL, 40)).toMatchObject({ totalHits: 6, blocked: true });
  });

  it('keeps the hits of a failed sync counted here, and ignores an answer about a window that has ended', () => {
    const w = new ThrottleWindows();
    w.hit('k', TTL, 5, TTL, 0);
    w.hit('k', TTL, 5, TTL, 0);
    const [failed] = w.takeUnsent();
    w.unshared(failed);
    expect(w.hit('k', TTL, 5, TTL, 10).totalHits).toBe(3);
    const [late] = w.takeUnsent();
    w.hit('k', TTL, 5, TTL, 1500); // a new window
    w.shared(late, 3, 400, 1600);
    expect(w.hit('k', TTL, 5, TTL, 1600)).toEqual({ totalHits: 2, msLeft: 900, blocked: false });
  });

  it('forgets windows that ended with nothing left to send, and no others', () => {
    const w = new ThrottleWindows();
    w.hit('in flight', TTL, 5, TTL, 0);
    const [inFlight] = w.takeUnsent();
    w.hit('answered', TTL, 5, TTL, 0);
    const [answered] = w.takeUnsent();
    w.shared(answered, 1, TTL, 0);
    w.hit('open', TTL, 5, TTL, 500);
    w.sweep(1200);
    expect(w.size).toBe(2); // 'in flight' waits for its answer; 'open' has not ended
    w.shared(inFlight, 1, TTL, 0);
    w.sweep(1200);
    expect(w.size).toBe(1);
    w.sweep(2100); // 'open' ended with a hit not sent yet
    expect(w.size).toBe(1);
    for (const s of w.takeUnsent()) w.unshared(s);
    w.sweep(2100);
    expect(w.size).toBe(0);
  });

  it('on one instance, every hit sees exactly the hits of its window, however the syncs are batched and answered', () => {
    type Op = { kind: 'hit'; key: string } | { kind: 'take' } | { kind: 'answer' } | { kind: 'fail' };
    const op = fc.oneof(
      fc.record({ kind: fc.constant('hit' as const), key: fc.constantFrom('x', 'y', 'z') }),
      fc.constant({ kind: 'take' as const }),
      fc.constant({ kind: 'answer' as const }),
      fc.constant({ kind: 'fail' as const }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 200 }), (ops: Op[]) => {
        const w = new ThrottleWindows();
        const redis = new ModelRedis();
        const inFlight: ThrottleSync[][] = [];
        const counted = new Map<string, number>();
        let now = 0;
        for (const o of ops) {
          now++; // all within one window
          if (o.kind === 'hit') {
            counted.set(o.key, (counted.get(o.key) ?? 0) + 1);
            expect(w.hit(o.key, 10_000, 50, 20_000, now).totalHits).toBe(counted.get(o.key));
          } else if (o.kind === 'take') inFlight.push(w.takeUnsent());
          else {
            const batch = inFlight.shift() ?? [];
            for (const s of batch) o.kind === 'answer' ? w.shared(s, ...redis.add(s, now), now) : w.unshared(s);
            // A failed batch is not in Redis: the model drops it too, as Redis never saw it.
          }
        }
      }),
      {
        numRuns: 500,
        // Once found: a failed sync's hits were dropped when a later sync's answer replaced the shared count.
        examples: [[[{ kind: 'hit', key: 'x' }, { kind: 'take' }, { kind: 'fail' }, { kind: 'hit', key: 'x' }, { kind: 'take' }, { kind: 'answer' }, { kind: 'hit', key: 'x' }]]],
      },
    );
  });
});
