import { Registry } from 'prom-client';
import { observeGcPauses } from './gc-pause-metrics';

describe(observeGcPauses.name, () => {
  it('records the GC pauses of the process, by kind', async () => {
    const registry = new Registry();
    const observer = observeGcPauses(registry);
    try {
      // Short-lived garbage: several young-generation collections in a row.
      let keep = 0;
      for (let i = 0; i < 200; i++) keep += new Array(50_000).fill(i).length;
      expect(keep).toBe(10_000_000);
      await new Promise((r) => setTimeout(r, 50));
      const text = await registry.metrics();
      const minor = Number(/^reelrank_gc_pause_seconds_count\{kind="minor"\} (\d+)$/m.exec(text)?.[1] ?? 0);
      expect(minor).toBeGreaterThan(1);
    } finally {
      observer.disconnect();
    }
  });
});
