import { ValidateBy, ValidationOptions } from 'class-validator';

/** Whether Postgres `real` can hold the number: finite, within float32 range, not so small it rounds to 0. */
export function isFloat32(value: unknown): value is number {
  if (typeof value !== 'number' || !Number.isFinite(value)) return false;
  const f = Math.fround(value);
  return Number.isFinite(f) && (value === 0 || f !== 0);
}

/** Each element a number a `real[]` column can hold (a value out of range would fail the query instead of the request). */
export function IsFloat32Array(validationOptions?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isFloat32Array',
      validator: {
        validate: (value) => Array.isArray(value) && value.every(isFloat32),
        defaultMessage: (args) => `${args?.property} must hold 32-bit floats (finite, |x| at most 3.4e38, not rounding to 0)`,
      },
    },
    validationOptions,
  );
}
