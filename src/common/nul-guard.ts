import type { FastifyInstance } from 'fastify';

/** A NUL (U+0000) escape in JSON text, not preceded by an escaping backslash. */
const JSON_NUL_ESCAPE = /(?:^|[^\\])(?:\\\\)*\\u0000/i;

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

/** True when JSON text has a string with a NUL character (see rejectNulInUrls). */
export function jsonHasNul(text: string): boolean {
  return JSON_NUL_ESCAPE.test(text);
}
