/** One key's hits to add to the shared count in Redis. */
export interface ThrottleSync {
  key: string;
  hits: number;
  ttlMs: number;
  blockMs: number;
  limit: number;
  /** The window the hits were counted in: an answer for an older one is ignored. */
  window: number;
}

/** What one hit found: the key's hits in its window (this one included) and the ms until the window (or the block) ends. */
export interface ThrottleHit {
  totalHits: number;
  msLeft: number;
  blocked: boolean;
}

interface Window {
  /** The shared count at the last answer from Redis (every instance's hits sent by then). */
  shared: number;
  /** Hits counted here whose sync failed: never in Redis, so never in `shared`. */
  unshared: number;
  /** Hits counted here and sent, not answered yet. */
  sent: number;
  /** Hits counted here and not sent yet. */
  unsent: number;
  /** When the window ends (or the block, once the key went over its limit), epoch ms. */
  endsAt: number;
  /** Numbers the window, so that an answer about an earlier one is not applied to this one. */
  id: number;
  ttlMs: number;
  blockMs: number;
  limit: number;
}

/**
 * Fixed rate-limit windows as one api instance sees them: every hit is counted here at
 * once, and the hits are added to the shared counts in Redis in batches (`takeUnsent`,
 * then `shared` or `unshared` per key). A key's hits are the shared count Redis last
 * answered plus what this instance counted since, so a client is limited without a
 * round trip per request; what other instances counted reaches this one at the next
 * answer. As in Redis, the first hit starts a window of `ttlMs`; the hit that takes a
 * key over its limit extends the window to `blockMs` when that is longer.
 */
export class ThrottleWindows {
  private readonly windows = new Map<string, Window>();
  private readonly unsent = new Set<string>();
  private nextId = 1;

  get size(): number {
    return this.windows.size;
  }

  hit(key: string, ttlMs: number, limit: number, blockMs: number, now: number): ThrottleHit {
    let w = this.windows.get(key);
    if (!w || w.endsAt <= now) {
      w = { shared: 0, unshared: 0, sent: 0, unsent: 0, endsAt: now + ttlMs, id: this.nextId++, ttlMs, blockMs, limit };
      // Re-inserted, so the map stays in order of window start (what `sweep` relies on).
      this.windows.delete(key);
      this.windows.set(key, w);
    }
    const before = w.shared + w.unshared + w.sent + w.unsent;
    w.unsent++;
    this.unsent.add(key);
    if (before <= limit && before + 1 > limit && blockMs > ttlMs) w.endsAt = Math.max(w.endsAt, now + blockMs);
    return { totalHits: before + 1, msLeft: w.endsAt - now, blocked: before + 1 > limit };
  }

  /** The hits not sent yet, one entry per key; from now on they count as sent. */
  takeUnsent(): ThrottleSync[] {
    const out: ThrottleSync[] = [];
    for (const key of this.unsent) {
      const w = this.windows.get(key);
      if (!w || w.unsent === 0) continue;
      out.push({ key, hits: w.unsent, ttlMs: w.ttlMs, blockMs: w.blockMs, limit: w.limit, window: w.id });
      w.sent += w.unsent;
      w.unsent = 0;
    }
    this.unsent.clear();
    return out;
  }

  /** Redis answered `sync`: the shared count is `total` (its hits included) and the key lives `pttlMs` more. */
  shared(sync: ThrottleSync, total: number, pttlMs: number, now: number): void {
    const w = this.windows.get(sync.key);
    if (!w || w.id !== sync.window) return;
    w.sent -= sync.hits;
    w.shared = total;
    if (pttlMs > 0) w.endsAt = now + pttlMs;
  }

  /** `sync` could not be added in Redis: its hits stay counted here (this instance still limits the key), not shared. */
  unshared(sync: ThrottleSync): void {
    const w = this.windows.get(sync.key);
    if (!w || w.id !== sync.window) return;
    w.sent -= sync.hits;
    w.unshared += sync.hits;
  }

  /**
   * Forgets windows that ended with nothing left to send, from the oldest; stops at the
   * first one still open (the map is in order of window start, so the rest are mostly open too).
   */
  sweep(now: number): void {
    for (const [key, w] of this.windows) {
      if (w.endsAt > now) break;
      if (w.sent === 0 && w.unsent === 0) this.windows.delete(key);
    }
  }
}
