import { ArgumentMetadata, ValidationPipe } from '@nestjs/common';
import Ajv, { SchemaObject, ValidateFunction } from 'ajv';
import { plainToInstance } from 'class-transformer';
import { timestampProblem } from './timestamp';

/**
 * A fast path in front of class-validator for the DTOs a hot route takes (the event
 * batches: class-validator spends 11-13 µs per event on them, most of the api's CPU per
 * event; the feed's query: ~10 µs, ~65 under load; bench/validation-bench.ts). The DTO names a JSON schema that accepts only
 * values its class-validator rules accept; ajv compiles it once. A value the schema accepts
 * is passed on as it is, or as class-transformer makes it (`transform`); any other value
 * goes to class-validator, which stays the one authority for what is refused and how the
 * 400 names the failing fields.
 * So the schema may be narrower than the rules (ids in printable ASCII, say), never wider
 * (a property test holds each schema to that against class-validator).
 */
const ajv = new Ajv({ allErrors: false, coerceTypes: false, useDefaults: false, removeAdditional: false, strict: true });
// The api's timestamp fields: the same check as @IsTimestamp, against the same window.
ajv.addFormat('reelrank-timestamp', { type: 'string', validate: (value: string) => timestampProblem(value) === null });

interface FastPath {
  validate: ValidateFunction;
  transform: boolean;
}

const fastPaths = new WeakMap<object, FastPath>();

/** An id field as the fast path takes it: 1-`max` printable ASCII characters, no space (other strings go to class-validator). */
export function asciiId(max: number): SchemaObject {
  return { type: 'string', pattern: `^[\\x21-\\x7E]{1,${max}}$` };
}

/**
 * Class decorator: values matching `schema` skip class-validator (see above). Without
 * `transform` they are passed on as they are: only for DTOs whose transform would change
 * nothing but the prototype. With it, class-transformer makes the DTO from them (its
 * @Type conversions and the DTO's defaults), as the pipe does for a value class-validator
 * accepted.
 */
export function FastValidation(schema: SchemaObject, options: { transform?: boolean } = {}): ClassDecorator {
  const path: FastPath = { validate: ajv.compile(schema), transform: options.transform ?? false };
  return (target) => {
    fastPaths.set(target, path);
  };
}

function fastPathOf(dto: unknown): FastPath | undefined {
  return typeof dto === 'function' ? fastPaths.get(dto) : undefined;
}

/** Whether `dto`'s fast path accepts `value` (false when the DTO has none). */
export function fastAccepts(dto: unknown, value: unknown): boolean {
  return fastPathOf(dto)?.validate(value) === true;
}

/** The api's ValidationPipe, with the DTOs' fast paths in front of it. */
export class FastPathValidationPipe extends ValidationPipe {
  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    const path = fastPathOf(metadata.metatype);
    if (path?.validate(value) === true) return path.transform ? plainToInstance(metadata.metatype as new () => object, value) : value;
    return super.transform(value, metadata);
  }
}
