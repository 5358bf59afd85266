import { instantProblem } from '../common/validation';

/** The common case, read by Date.parse as is: 2024-01-31T12:00:00Z, 2024-01-31T12:00:00.123Z. */
const FULL_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{3})?Z$/;

/**
 * The time of an imported row, as epoch ms, or null when it is not a time: an ISO 8601
 * string with a date (a zone-less time is read as UTC), or a number of epoch seconds
 * (below 1e11, i.e. before 1973 in ms) or epoch milliseconds; inside the api's timestamp
 * window (TIMESTAMP_MIN to TIMESTAMP_MAX_SKEW_MS past `now`), like every timestamp it takes.
 */
export function parseImportTime(value: unknown, now: number): number | null {
  let ms: number;
  if (typeof value === 'string' && FULL_UTC.test(value)) {
    ms = Date.parse(value);
  } else if (typeof value === 'number' || (typeof value === 'string' && /^\d{1,16}(\.\d+)?$/.test(value))) {
    const n = Number(value);
    ms = n < 1e11 ? Math.round(n * 1000) : Math.round(n);
  } else if (typeof value === 'string' && /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?$/.test(value)) {
    const zoned = /(Z|[+-]\d{2}:?\d{2})$/.test(value) || value.length === 10 ? value : `${value}Z`;
    ms = Date.parse(zoned.replace(' ', 'T'));
  } else {
    return null;
  }
  return instantProblem(ms, now) === null ? ms : null;
}
