import { Global, Module } from '@nestjs/common';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { observeGcPauses } from './gc-pause-metrics';

/**
 * One Prometheus registry per process (not prom-client's global one, so several
 * apps in one test process do not collide). Services declare their own metrics
 * with `registers: [registry]`.
 */
@Global()
@Module({
  providers: [
    {
      provide: Registry,
      useFactory: () => {
        const registry = new Registry();
        // Event-loop delay sampled every 5 ms (default 10): its p99 and max gauges reset at each scrape.
        collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 5 });
        observeGcPauses(registry);
        return registry;
      },
    },
  ],
  exports: [Registry],
})
export class MetricsModule {}
