import { DataSource } from 'typeorm';
import { uniqueId } from './sequence';

/**
 * Inserts one impression per feature row (row-major, `width` values each) as served
 * by `modelVersion` at `servedAt`, in one statement.
 */
export async function insertImpressions(
  dataSource: DataSource,
  opts: { modelVersion: string | null; rows: Float32Array; width: number; servedAt?: Date },
): Promise<number> {
  const n = opts.rows.length / opts.width;
  const requestId = uniqueId('req');
  const features: string[] = [];
  for (let i = 0; i < n; i++) {
    features.push(`{${Array.from(opts.rows.subarray(i * opts.width, (i + 1) * opts.width)).join(',')}}`);
  }
  await dataSource.query(
    `INSERT INTO impressions (request_id, user_id, video_id, position, source, score, model_version, features, served_at)
     SELECT $1, 'u_' || (i % 97), 'v_' || i, i, 'test', 0.5, $2, f::real[], $3
       FROM unnest($4::text[]) WITH ORDINALITY AS t(f, i)`,
    [requestId, opts.modelVersion, opts.servedAt ?? new Date(), features],
  );
  return n;
}
