import type { FastifyInstance } from 'fastify';
import { Histogram, Registry } from 'prom-client';

/** Buckets in seconds: sub-millisecond probes up to multi-second admin calls. */
const BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.015, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/**
 * `reelrank_http_request_duration_seconds{method, route, status}`: every answered
 * request, labelled by its route pattern (`/v1/models/:id`, not the raw URL, so ids do
 * not explode the label set; `unmatched` for 404s on unknown paths) and status code.
 * Recorded in Fastify's onResponse hook, from Fastify's own request timer.
 */
export function recordHttpMetrics(fastify: FastifyInstance, registry: Registry): void {
  const histogram = new Histogram({
    name: 'reelrank_http_request_duration_seconds',
    help: 'HTTP request latency by method, route pattern and status code',
    labelNames: ['method', 'route', 'status'],
    buckets: BUCKETS,
    registers: [registry],
  });
  fastify.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url ?? 'unmatched';
    histogram.labels(request.method, route, String(reply.statusCode)).observe(reply.elapsedTime / 1000);
    done();
  });
}
