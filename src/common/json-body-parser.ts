import { BadRequestException } from '@nestjs/common';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { findUnstorableText } from './unstorable-text';

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_OBJECT = 0x7b;
const OPEN_ARRAY = 0x5b;
const CLOSE_OBJECT = 0x7d;
const CLOSE_ARRAY = 0x5d;

/**
 * True when the JSON text nests objects/arrays deeper than `maxDepth`. One pass over
 * the bytes, outside string literals; runs before parsing so a hostile body cannot
 * make validation or transformation recurse deep enough to overflow the stack.
 */
export function exceedsJsonDepth(body: Uint8Array, maxDepth: number): boolean {
  let depth = 0;
  let inString = false;
  let escaped = false;
  for (let i = 0; i < body.length; i++) {
    const b = body[i];
    if (inString) {
      if (escaped) escaped = false;
      else if (b === BACKSLASH) escaped = true;
      else if (b === QUOTE) inString = false;
    } else if (b === QUOTE) inString = true;
    else if (b === OPEN_OBJECT || b === OPEN_ARRAY) {
      if (++depth > maxDepth) return true;
    } else if (b === CLOSE_OBJECT || b === CLOSE_ARRAY) depth--;
  }
  return false;
}

type Done = (err: Error | null, body?: unknown) => void;

/**
 * The `application/json` body parser for `app.useBodyParser`: Fastify's own parser
 * (secure-json-parse: bodies with `__proto__` or `constructor.prototype` keys are
 * rejected) behind a nesting-depth limit, then a refusal of strings Postgres cannot store
 * (NUL, lone surrogates), naming the field.
 */
export function depthLimitedJsonParser(fastify: FastifyInstance, maxDepth: number) {
  const parse = fastify.getDefaultJsonParser('error', 'error');
  return (req: FastifyRequest, body: Buffer, done: Done): void => {
    if (exceedsJsonDepth(body, maxDepth)) {
      done(new BadRequestException(`JSON body nests deeper than ${maxDepth} levels`));
      return;
    }
    parse(req, body.toString('utf8'), (err, parsed) => {
      if (err) return done(err);
      // Every route takes an object: a null body must not read as "all defaults".
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return done(new BadRequestException('body must be a JSON object'));
      const problem = findUnstorableText(parsed);
      done(problem ? new BadRequestException(problem) : null, parsed);
    });
  };
}
