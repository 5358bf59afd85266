import { ArgumentsHost, Catch, ExceptionFilter, HttpException, HttpStatus, Logger } from '@nestjs/common';
import type { FastifyReply } from 'fastify';

interface FastifyLikeError {
  statusCode?: number;
  code?: string;
  message: string;
}

/**
 * One place that shapes every error response. Client errors keep their message;
 * anything unexpected is logged and answered without internals.
 */
@Catch()
export class AllExceptionsFilter implements ExceptionFilter {
  private readonly logger = new Logger('Errors');

  catch(exception: unknown, host: ArgumentsHost): void {
    const reply = host.switchToHttp().getResponse<FastifyReply>();
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      const body = exception.getResponse();
      const payload =
        typeof body === 'string' ? { statusCode: status, message: body } : { statusCode: status, ...(body as object) };
      void reply.status(status).send(payload);
      return;
    }
    const fastifyError = exception as FastifyLikeError;
    if (fastifyError?.statusCode && fastifyError.statusCode >= 400 && fastifyError.statusCode < 500) {
      // Errors raised by Fastify itself while parsing: bad JSON, body too large, wrong content type.
      void reply.status(fastifyError.statusCode).send({
        statusCode: fastifyError.statusCode,
        error: fastifyError.code ?? 'Bad Request',
        message: fastifyError.message,
      });
      return;
    }
    this.logger.error((exception as Error)?.stack ?? String(exception));
    void reply
      .status(HttpStatus.INTERNAL_SERVER_ERROR)
      .send({ statusCode: 500, error: 'Internal Server Error', message: 'Internal server error' });
  }
}
