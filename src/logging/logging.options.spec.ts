import type { IncomingMessage, ServerResponse } from 'node:http';
import { EventEmitter } from 'node:events';
import { pinoHttp as createRequestLogger, type Options } from 'pino-http';
import { loggingParams } from './logging.options';

describe('request log options', () => {
  const pinoHttp = loggingParams({ LOG_LEVEL: 'info' }, 'api').pinoHttp as Options<IncomingMessage, ServerResponse>;
  const level = (status: number, err?: Error) =>
    pinoHttp.customLogLevel!({} as IncomingMessage, { statusCode: status } as ServerResponse, err);
  const serializeErr = pinoHttp.serializers!.err as (err: Error) => Record<string, unknown>;

  it('logs a deliberate 503 as a warning, other 5xx and thrown errors as errors, the rest as info', () => {
    expect(level(200)).toBe('info');
    expect(level(404)).toBe('info');
    expect(level(503)).toBe('warn');
    expect(level(500)).toBe('error');
    expect(level(503, new Error('boom'))).toBe('error');
  });

  it('keeps only the message of the error pino-http invents for a 5xx, and leaves a real one as serialized', () => {
    expect(serializeErr(new Error('failed with status code 503'))).toEqual({ message: 'failed with status code 503' });
    const real = { type: 'QueryFailedError', message: 'connection refused', stack: 'QueryFailedError: connection refused\n    at x' };
    expect(serializeErr(real as unknown as Error)).toBe(real);
  });

  it('logs a real error with its type and stack through pino-http', async () => {
    const lines: string[] = [];
    const { pinoHttp: options } = loggingParams({ LOG_LEVEL: 'info' }, 'api');
    const log = createRequestLogger({ ...(options as object), stream: { write: (l: string) => void lines.push(l) } } as never);
    const req = Object.assign(new EventEmitter(), { method: 'GET', url: '/x', headers: {}, socket: {} }) as unknown as IncomingMessage;
    const res = Object.assign(new EventEmitter(), { statusCode: 500, writableEnded: true, getHeaders: () => ({}) }) as unknown as ServerResponse;
    log(req, res);
    class QueryFailedError extends Error {}
    res.emit('error', new QueryFailedError('connection refused'));
    const line = JSON.parse(lines.at(-1)!);
    expect(line.err).toMatchObject({ type: 'QueryFailedError', message: 'connection refused' });
    expect(line.err.stack).toContain('logging.options.spec');
  });
});
