import { ArgumentsHost, Catch, ExceptionFilter, HttpException, HttpStatus, Logger } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { STATUS_CODES } from 'node:http';

/** Errors raised outside Nest's handlers: Fastify's own (body parsing, URL), plugins (http-errors). */
interface FrameworkError {
  statusCode?: number;
  code?: string;
  message?: string;
  /** Set by http-errors on 4xx errors whose message is meant for the client. */
  expose?: boolean;
}

export interface ErrorBody {
  statusCode: number;
  error: string;
  message: string | string[];
  [key: string]: unknown;
}

/** Client-facing wording for Fastify's errors whose default message is terse. */
const FASTIFY_MESSAGES: Record<string, (limits: { bodyLimitBytes: number }) => string> = {
  FST_ERR_CTP_BODY_TOO_LARGE: ({ bodyLimitBytes }) => `request body exceeds the limit of ${bodyLimitBytes} bytes`,
  FST_ERR_CTP_INVALID_JSON_BODY: () =>
    'body is not valid JSON (or contains a forbidden __proto__ / constructor.prototype key)',
  FST_ERR_CTP_EMPTY_JSON_BODY: () => 'body is empty but content-type is application/json',
};

const reason = (status: number) => STATUS_CODES[status] ?? 'Error';

/**
 * One place that shapes every error response as `{ statusCode, error, message }`.
 * Client errors say what was wrong; anything unexpected is logged (with the request
 * id, through the request-bound logger) and answered without internals.
 */
@Catch()
export class AllExceptionsFilter implements ExceptionFilter {
  private readonly logger = new Logger('Errors');

  constructor(private readonly limits: { bodyLimitBytes: number } = { bodyLimitBytes: 1024 * 1024 }) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const reply = host.switchToHttp().getResponse<FastifyReply>();
    const { status, body } = this.toResponse(exception);
    if (exception instanceof HttpException) {
      // Raised on purpose (e.g. readiness 503): worth a line, not a stack trace.
      if (status >= 500) this.logger.warn(`${status} ${exception.message}`);
    } else if (status >= 500) {
      this.logger.error((exception as Error)?.stack ?? String(exception));
    }
    // An exception whose response names `retryAfter` (seconds) answers with it as the Retry-After header.
    const { retryAfter, ...rest } = body;
    if (typeof retryAfter === 'number') void reply.header('Retry-After', String(retryAfter));
    void reply.status(status).type('application/json; charset=utf-8').send(typeof retryAfter === 'number' ? rest : body);
  }

  toResponse(exception: unknown): { status: number; body: ErrorBody } {
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      if (status === HttpStatus.PAYLOAD_TOO_LARGE) {
        // Raised by the adapter for a body over the limit, with a message that does not say the limit.
        return { status, body: { statusCode: status, error: reason(status), message: FASTIFY_MESSAGES.FST_ERR_CTP_BODY_TOO_LARGE(this.limits) } };
      }
      const response = exception.getResponse();
      const body: ErrorBody =
        typeof response === 'string'
          ? { statusCode: status, error: reason(status), message: response }
          : { statusCode: status, error: reason(status), message: exception.message, ...(response as object) };
      return { status, body };
    }
    const framework = exception as FrameworkError | null;
    const status = framework?.statusCode;
    if (typeof status === 'number' && status >= 400 && status < 500) {
      const code = typeof framework?.code === 'string' ? framework.code : undefined;
      const describe = code ? FASTIFY_MESSAGES[code] : undefined;
      const clientSafe = code?.startsWith('FST_') || framework?.expose === true;
      const message = describe ? describe(this.limits) : clientSafe && framework?.message ? framework.message : reason(status);
      return { status, body: { statusCode: status, error: reason(status), message, ...(code?.startsWith('FST_') ? { code } : {}) } };
    }
    const internal = HttpStatus.INTERNAL_SERVER_ERROR;
    return { status: internal, body: { statusCode: internal, error: reason(internal), message: 'Internal server error' } };
  }
}
