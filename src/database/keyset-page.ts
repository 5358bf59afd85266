import { DataSource } from 'typeorm';

/**
 * One page of a keyset scan (`... WHERE (key) > $last ORDER BY key LIMIT n`), planned
 * without a sort step, so that it walks the index on its key whatever the statistics say.
 * The planner sizes a page's range from statistics that know nothing of rows written since
 * the last ANALYZE (or of a newly seen value); judging the range small, or the LIMIT a
 * large part of it, it chose to read the whole range (or table) and sort it, on every page.
 * The query must have an index on its ORDER BY, or it is sorted anyway.
 */
export function keysetPage<T>(db: DataSource, sql: string, params: unknown[]): Promise<T[]> {
  return db.transaction(async (tx) => {
    await tx.query('SET LOCAL enable_sort = off');
    return (await tx.query(sql, params)) as T[];
  });
}
