import type { FastifyInstance } from 'fastify';

/**
 * Postgres text cannot hold U+0000, so an id or string containing it would fail deep in
 * a query. No valid input has one: such URLs are refused with 400 before routing.
 */
export function rejectNulInUrls(fastify: FastifyInstance): void {
  fastify.addHook('onRequest', (request, reply, done) => {
    if (/%00/i.test(request.url)) {
      void reply
        .code(400)
        .type('application/json; charset=utf-8')
        .send({ statusCode: 400, error: 'Bad Request', message: 'the URL must not contain NUL (%00) characters' });
      return;
    }
    done();
  });
}
