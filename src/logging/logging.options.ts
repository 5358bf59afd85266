import type { IncomingMessage, ServerResponse } from 'node:http';
import { RequestMethod } from '@nestjs/common';
import type { Params } from 'nestjs-pino';
import type { Options } from 'pino-http';
import { AppConfig } from '../config/app-config';

/** The message of the error pino-http makes up for a 5xx answer that carries none. */
const SYNTHETIC_ERROR = /^failed with status code \d+$/;

/** Probes and scrapes: answered without a log line each (they would drown the rest). */
const QUIET_PATHS = /^\/(health\/|metrics(\?|$))/;

/**
 * One JSON line per log record (pino), bound to the request that caused it: every
 * record written while handling a request carries `req.id`. The id is Fastify's
 * request id (see `useRequestIds`): pino-http keeps an id the request already has.
 */
export function loggingParams(config: Pick<AppConfig, 'LOG_LEVEL'>, processName: 'api' | 'worker' | 'stream'): Params {
  const pinoHttp: Options<IncomingMessage, ServerResponse> = {
    name: processName,
    level: config.LOG_LEVEL,
    // 503 is an answer the api gives on purpose (Redis down, draining): a warning, not an error.
    customLogLevel: (_req, res, err) => (err ? 'error' : res.statusCode === 503 ? 'warn' : res.statusCode >= 500 ? 'error' : 'info'),
    autoLogging: { ignore: (req) => QUIET_PATHS.test(originalUrl(req)) },
    serializers: {
      req: (req: { id: string; method: string; url: string; remoteAddress?: string; headers?: Record<string, unknown> }) => ({
        id: req.id,
        method: req.method,
        url: req.url,
        remoteAddress: req.remoteAddress,
        userAgent: req.headers?.['user-agent'],
      }),
      res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
      // pino-http invents an Error (with its own stack) for a 5xx answered without one: keep its message only.
      // pino-http has already run its standard error serializer on what arrives here.
      err: (err: { message?: string }) => (SYNTHETIC_ERROR.test(err.message ?? '') ? { message: err.message } : err),
    },
  };
  // nestjs-pino's default route pattern (`{/*splat}`) matches nothing on this Nest/Fastify version.
  return { pinoHttp, forRoutes: [{ path: '*path', method: RequestMethod.ALL }] };
}

/** Middleware sees the path relative to its mount point in `url`; the full one is `originalUrl`. */
function originalUrl(req: IncomingMessage): string {
  return (req as IncomingMessage & { originalUrl?: string }).originalUrl ?? req.url ?? '';
}
