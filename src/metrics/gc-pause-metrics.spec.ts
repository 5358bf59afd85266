import { Registry } from 'prom-client';
import { observeGcPauses } from './gc-pause-metrics';

describe(observeGcPauses.name, () => {
  it('records the GC pauses of the process, by kind', async () => {
    const registry = new Registry();
    const observer = observeGcPauses(registry);
    try {
      // Short-lived small objects (~160 MB of them, kept in a ring so they are really
      // allocated): several young-generation collections in a row. (Big arrays would go to
      // the large-object space, which newer V8s do not collect with a scavenge.)
      const ring: { i: number }[] = new Array(1024);
      for (let i = 0; i < 5_000_000; i++) ring[i & 1023] = { i };
      expect(ring[4_999_999 & 1023].i).toBe(4_999_999);
      await new Promise((r) => setTimeout(r, 50));
      const text = await registry.metrics();
      const minor = Number(/^reelrank_gc_pause_seconds_count\{kind="minor"\} (\d+)$/m.exec(text)?.[1] ?? 0);
      expect(minor).toBeGreaterThan(1);
    } finally {
      observer.disconnect();
    }
  });
});
