import { constants, PerformanceObserver } from 'node:perf_hooks';
import { Histogram, Registry } from 'prom-client';

const KINDS: Record<number, string> = {
  [constants.NODE_PERFORMANCE_GC_MINOR]: 'minor',
  [constants.NODE_PERFORMANCE_GC_MAJOR]: 'major',
  [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental',
  [constants.NODE_PERFORMANCE_GC_WEAKCB]: 'weakcb',
};

/**
 * Every GC pause by kind, in buckets fine enough for a feed's millisecond budget.
 * prom-client's own `nodejs_gc_duration_seconds` records only the first pause of each
 * batch the observer is handed, so under load it misses most of them.
 */
export function observeGcPauses(registry: Registry): PerformanceObserver {
  const pauses = new Histogram({
    name: 'reelrank_gc_pause_seconds',
    help: 'Garbage collection pauses of this process by kind (minor, major, incremental, weakcb)',
    labelNames: ['kind'],
    buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1],
    registers: [registry],
  });
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      const kind = KINDS[(entry as { detail?: { kind?: number } }).detail?.kind ?? -1] ?? 'other';
      pauses.labels(kind).observe(entry.duration / 1000);
    }
  });
  observer.observe({ entryTypes: ['gc'] });
  return observer;
}
