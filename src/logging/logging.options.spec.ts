import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Options } from 'pino-http';
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

  it('keeps only the message of the error pino-http invents for a 5xx, and the full stack of a real one', () => {
    expect(serializeErr(new Error('failed with status code 503'))).toEqual({ message: 'failed with status code 503' });
    const real = serializeErr(new Error('connection refused'));
    expect(real.message).toBe('connection refused');
    expect(String(real.stack)).toContain('logging.options.spec');
  });
});
