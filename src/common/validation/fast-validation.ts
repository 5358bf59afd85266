import { ArgumentMetadata, ValidationPipe } from '@nestjs/common';
import Ajv, { SchemaObject, ValidateFunction } from 'ajv';
import { timestampProblem } from './timestamp';

/**
 * A fast path in front of class-validator for the DTOs a hot route takes (the event
 * batches: class-validator spends ~16-21 µs per event on them, most of the api's CPU per
 * event). The DTO names a JSON schema that accepts only values its class-validator rules
 * accept unchanged (no field to strip, convert or default); ajv compiles it once. A value
 * the schema accepts is passed on as it is; any other value goes to class-validator, which
 * stays the one authority for what is refused and how the 400 names the failing fields.
 * So the schema may be narrower than the rules (ids in printable ASCII, say), never wider
 * (a property test holds each schema to that against class-validator).
 */
const ajv = new Ajv({ allErrors: false, coerceTypes: false, useDefaults: false, removeAdditional: false, strict: true });
// The api's timestamp fields: the same check as @IsTimestamp, against the same window.
ajv.addFormat('reelrank-timestamp', { type: 'string', validate: (value: string) => timestampProblem(value) === null });

const fastPaths = new WeakMap<object, ValidateFunction>();

/** An id field as the fast path takes it: 1-`max` printable ASCII characters, no space (other strings go to class-validator). */
export function asciiId(max: number): SchemaObject {
  return { type: 'string', pattern: `^[\\x21-\\x7E]{1,${max}}$` };
}

/**
 * Class decorator: values matching `schema` skip class-validator (see above). Only for
 * DTOs whose transform would change nothing but the prototype (no @Type conversions of
 * values, no defaults).
 */
export function FastValidation(schema: SchemaObject): ClassDecorator {
  const validate = ajv.compile(schema);
  return (target) => {
    fastPaths.set(target, validate);
  };
}

/** Whether `dto`'s fast path accepts `value` as it is (false when the DTO has none). */
export function fastAccepts(dto: unknown, value: unknown): boolean {
  const validate = typeof dto === 'function' ? fastPaths.get(dto) : undefined;
  return validate !== undefined && validate(value) === true;
}

/** The api's ValidationPipe, with the DTOs' fast paths in front of it. */
export class FastPathValidationPipe extends ValidationPipe {
  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    if (fastAccepts(metadata.metatype, value)) return value;
    return super.transform(value, metadata);
  }
}
