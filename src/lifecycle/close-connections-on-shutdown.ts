import type { FastifyInstance } from 'fastify';
import { ShutdownService } from './shutdown.service';

/**
 * Once shutdown has begun, every answer carries `Connection: close`, so a client on a
 * kept-alive connection reconnects (to another instance) instead of sending its next
 * request on this one. Without it, clients that keep a connection busy keep the HTTP
 * server from ever finishing its close: the shutdown then ran into SHUTDOWN_TIMEOUT_MS
 * and exited with code 1 before the impression buffer was flushed.
 */
export function closeConnectionsOnShutdown(fastify: FastifyInstance, shutdown: ShutdownService): void {
  fastify.addHook('onRequest', (_request, reply, done) => {
    if (shutdown.isDraining) void reply.header('connection', 'close');
    done();
  });
}
