import { BadRequestException, HttpException, PayloadTooLargeException } from '@nestjs/common';
import { AllExceptionsFilter } from './all-exceptions.filter';

describe(AllExceptionsFilter.name, () => {
  const filter = new AllExceptionsFilter({ bodyLimitBytes: 2048 });

  it('keeps the failing fields of a validation error', () => {
    const { status, body } = filter.toResponse(new BadRequestException(['userId must be a string']));
    expect(status).toBe(400);
    expect(body).toEqual({ statusCode: 400, error: 'Bad Request', message: ['userId must be a string'] });
  });

  it('names the body limit on 413', () => {
    expect(filter.toResponse(new PayloadTooLargeException()).body.message).toBe('request body exceeds the limit of 2048 bytes');
  });

  it('passes Fastify client errors through with their code, and hides messages not meant for clients', () => {
    const fastify = Object.assign(new Error('Unsupported Media Type'), { statusCode: 415, code: 'FST_ERR_CTP_INVALID_MEDIA_TYPE' });
    expect(filter.toResponse(fastify)).toEqual({
      status: 415,
      body: { statusCode: 415, error: 'Unsupported Media Type', message: 'Unsupported Media Type', code: 'FST_ERR_CTP_INVALID_MEDIA_TYPE' },
    });
    const internal = Object.assign(new Error('connect ECONNREFUSED 10.0.0.3:5432'), { statusCode: 404 });
    expect(filter.toResponse(internal).body.message).toBe('Not Found');
  });

  it('answers anything unexpected with a bare 500', () => {
    for (const err of [new TypeError("Cannot read properties of undefined (reading 'x')"), 'a string', null, { statusCode: 503 }]) {
      expect(filter.toResponse(err)).toEqual({
        status: 500,
        body: { statusCode: 500, error: 'Internal Server Error', message: 'Internal server error' },
      });
    }
  });

  it('keeps deliberate HttpExceptions as raised', () => {
    expect(filter.toResponse(new HttpException({ status: 'error', info: {} }, 503)).body).toEqual({
      statusCode: 503,
      error: 'Service Unavailable',
      message: 'Http Exception',
      status: 'error',
      info: {},
    });
  });
});
