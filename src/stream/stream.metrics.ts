import { Injectable } from '@nestjs/common';
import { Counter, Registry } from 'prom-client';

/** Stream consumer metrics (stream process, served by MetricsServer on WORKER_METRICS_PORT). */
@Injectable()
export class StreamMetrics {
  readonly messages: Counter<'outcome'>;

  constructor(registry: Registry) {
    this.messages = new Counter({
      name: 'reelrank_stream_messages_total',
      help: 'Broker messages handled, by outcome (ingested, dead_lettered, redelivered)',
      labelNames: ['outcome'],
      registers: [registry],
    });
  }
}
