import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Params } from 'nestjs-pino';
import type { Options } from 'pino-http';
import { AppConfig } from '../config/app-config';
import { REQUEST_ID_HEADER, requestIdFrom } from './request-id';

/** Probes and scrapes: answered without a log line each (they would drown the rest). */
const QUIET_PATHS = /^\/(health\/|metrics(\?|$))/;

/**
 * One JSON line per log record (pino), bound to the request that caused it: every
 * record written while handling a request carries `req.id`, which is the caller's
 * `x-request-id` (when acceptable) or a new UUID, and is echoed in the response header.
 */
export function loggingParams(config: Pick<AppConfig, 'LOG_LEVEL'>, processName: 'api' | 'worker'): Params {
  const pinoHttp: Options<IncomingMessage, ServerResponse> = {
    name: processName,
    level: config.LOG_LEVEL,
    genReqId: (req, res) => {
      const id = requestIdFrom(req.headers[REQUEST_ID_HEADER]);
      res.setHeader(REQUEST_ID_HEADER, id);
      return id;
    },
    customLogLevel: (_req, res, err) => (err || res.statusCode >= 500 ? 'error' : 'info'),
    autoLogging: { ignore: (req) => QUIET_PATHS.test(req.url ?? '') },
    serializers: {
      req: (req: { id: string; method: string; url: string; remoteAddress?: string; headers?: Record<string, unknown> }) => ({
        id: req.id,
        method: req.method,
        url: req.url,
        remoteAddress: req.remoteAddress,
        userAgent: req.headers?.['user-agent'],
      }),
      res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
    },
  };
  return { pinoHttp };
}
