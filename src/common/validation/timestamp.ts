import { applyDecorators } from '@nestjs/common';
import { ValidateBy, ValidateIf, ValidationOptions } from 'class-validator';

/** The instants the api accepts: from `minMs` to `maxSkewMs` past now (client clocks run ahead). */
export interface TimestampWindow {
  minMs: number;
  maxSkewMs: number;
}

let window: TimestampWindow = { minMs: Date.UTC(1970, 0, 1), maxSkewMs: 300_000 };

/** Set once at boot from AppConfig (TIMESTAMP_MIN, TIMESTAMP_MAX_SKEW_MS). */
export function setTimestampWindow(w: TimestampWindow): void {
  window = w;
}

export function timestampWindow(): TimestampWindow {
  return window;
}

/**
 * RFC 3339 date-time with an offset, or a calendar date (midnight UTC). ISO 8601 week
 * and ordinal dates (`2026-W49-4`, `2026-337`) are refused: `Date.parse` cannot read them.
 */
const TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2})(?:[Tt](\d{2}):(\d{2}):(\d{2})(?:\.\d{1,9})?(?:[Zz]|[+-](\d{2}):(\d{2})))?$/;

/** The instant (epoch ms) a timestamp string names, or null when it is not one. */
export function parseTimestamp(value: unknown): number | null {
  if (typeof value !== 'string') return null;
  const m = TIMESTAMP.exec(value);
  if (!m) return null;
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const date = new Date(Date.UTC(year, month - 1, day));
  // Date.parse rolls 2026-02-31 over to March: refuse days the month does not have.
  if (date.getUTCFullYear() !== year || date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day) return null;
  if (m[4] !== undefined && (Number(m[4]) > 23 || Number(m[5]) > 59 || Number(m[6]) > 59)) return null;
  if (m[7] !== undefined && (Number(m[7]) > 23 || Number(m[8]) > 59)) return null;
  const ms = Date.parse(value);
  return Number.isFinite(ms) ? ms : null;
}

/** Why an instant (epoch ms) is outside the window, or null when it is inside. */
export function instantProblem(ms: number, now = Date.now(), w: TimestampWindow = window): string | null {
  if (!Number.isFinite(ms)) return 'must be a finite instant';
  if (ms < w.minMs) return `must not be before ${new Date(w.minMs).toISOString()}`;
  if (ms > now + w.maxSkewMs) return `must not be more than ${w.maxSkewMs} ms in the future`;
  return null;
}

/** Why a client's timestamp is not acceptable, or null when it is (one definition for the whole api and the import). */
export function timestampProblem(value: unknown, now = Date.now(), w: TimestampWindow = window): string | null {
  const ms = parseTimestamp(value);
  if (ms === null) return 'must be an RFC 3339 date-time with an offset (2026-12-03T10:00:00Z) or a date (2026-12-03)';
  return instantProblem(ms, now, w);
}

/**
 * A timestamp field: a string `parseTimestamp` reads, inside the configured window.
 * `optional` lets the field be absent; null is still refused (it is not a timestamp).
 */
export function IsTimestamp(options: { optional?: boolean } = {}, validationOptions?: ValidationOptions): PropertyDecorator {
  const check = ValidateBy(
    {
      name: 'isTimestamp',
      validator: {
        validate: (value) => timestampProblem(value) === null,
        defaultMessage: (args) => `${args?.property} ${timestampProblem(args?.value)}`,
      },
    },
    validationOptions,
  );
  return options.optional ? applyDecorators(ValidateIf((_, value) => value !== undefined), check) : check;
}
