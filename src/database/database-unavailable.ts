/** Socket errors of a connection that could not be made or was lost. */
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'ENOTFOUND']);

/**
 * SQLSTATEs that say the server cannot serve right now, not that the statement was
 * wrong: connection exceptions (class 08), shutdown and start-up (57P01-57P03),
 * too many connections (53300).
 */
const UNAVAILABLE_STATES = new Set(['57P01', '57P02', '57P03', '53300']);

/** Messages node-postgres (and its pool) fail with when the connection is gone or cannot be had. */
const UNAVAILABLE_MESSAGES = [
  /connection terminated/i,
  /timeout exceeded when trying to connect/i,
  /not queryable/i,
];

/**
 * Whether `err` means Postgres could not be reached (down, restarting, failing over,
 * unreachable) rather than that the work itself failed: such work should wait for
 * Postgres, not be counted as a failed attempt. TypeORM wraps driver errors in
 * `driverError`; both are looked at.
 */
export function isDatabaseUnavailable(err: unknown): boolean {
  for (let e = err as { code?: unknown; message?: unknown; driverError?: unknown } | null, depth = 0; e && depth < 3; depth++) {
    const code = typeof e.code === 'string' ? e.code : '';
    if (NETWORK_CODES.has(code) || UNAVAILABLE_STATES.has(code) || code.startsWith('08')) return true;
    if (typeof e.message === 'string' && UNAVAILABLE_MESSAGES.some((m) => m.test(e!.message as string))) return true;
    e = (e.driverError ?? null) as typeof e;
  }
  return false;
}

/** Postgres could not be reached for this piece of work; `cause` is the driver's error. */
export class DatabaseUnavailableError extends Error {
  constructor(cause: unknown) {
    super(`postgres unavailable: ${(cause as Error)?.message ?? String(cause)}`, { cause });
    this.name = 'DatabaseUnavailableError';
  }
}

/** For `.catch()` on a Postgres call: rethrows `err`, as DatabaseUnavailableError when it means Postgres is unreachable. */
export function rethrowIfUnavailable(err: unknown): never {
  throw isDatabaseUnavailable(err) ? new DatabaseUnavailableError(err) : err;
}
