import { DatabaseUnavailableError, isDatabaseUnavailable, rethrowIfUnavailable } from './database-unavailable';

describe(isDatabaseUnavailable.name, () => {
  it('recognises a lost or refused connection, however it is wrapped', () => {
    expect(isDatabaseUnavailable(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }))).toBe(true);
    expect(isDatabaseUnavailable(new Error('Connection terminated unexpectedly'))).toBe(true);
    expect(isDatabaseUnavailable(new Error('timeout exceeded when trying to connect'))).toBe(true);
    expect(isDatabaseUnavailable(Object.assign(new Error('the database system is shutting down'), { code: '57P03' }))).toBe(true);
    expect(isDatabaseUnavailable(Object.assign(new Error('x'), { code: '08006' }))).toBe(true);
    const wrapped = Object.assign(new Error('Query failed'), { driverError: Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }) });
    expect(isDatabaseUnavailable(wrapped)).toBe(true);
  });

  it('does not excuse errors of the statement or the data', () => {
    expect(isDatabaseUnavailable(Object.assign(new Error('invalid input syntax for type integer'), { code: '22P02' }))).toBe(false);
    expect(isDatabaseUnavailable(Object.assign(new Error('duplicate key'), { code: '23505' }))).toBe(false);
    expect(isDatabaseUnavailable(new Error('user u1: state kept changing'))).toBe(false);
    expect(isDatabaseUnavailable(null)).toBe(false);
    expect(isDatabaseUnavailable('ECONNREFUSED')).toBe(false);
  });

  it('rethrows unreachable-database errors as DatabaseUnavailableError and others as they are', async () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    await expect(Promise.reject(refused).catch(rethrowIfUnavailable)).rejects.toEqual(expect.any(DatabaseUnavailableError));
    const bad = Object.assign(new Error('syntax error'), { code: '42601' });
    await expect(Promise.reject(bad).catch(rethrowIfUnavailable)).rejects.toBe(bad);
  });
});
