import { createHash } from 'node:crypto';
import { Redis } from 'ioredis';
import { Pool } from 'pg';
import { CatalogVideo } from '../../src/features/catalog-video';
import { DEFAULT_FEATURE_NAMES, userContext } from '../../src/features/feature-registry';
import { buildFeatureMatrix, FeatureSpec, resolveFeatures } from '../../src/features/feature-spec';
import { decodeUserState } from '../../src/features/user-state';
import { decodeVideoStats } from '../../src/features/video-stats';
import { RedisKeys } from '../../src/redis/redis-keys';
import { fitStandardizer, initMlp, trainMlp } from '../../src/training/model/mlp';
import { exportMlpToOnnx, ONNX_INPUT_NAME, ONNX_OUTPUT_NAME } from '../../src/training/model/onnx-export';

const HEADS = ['like', 'complete', 'share', 'skip'];
const ROWS = 40_000;

/**
 * A ranker of the default shape (every registry feature, four heads, 32x16 hidden),
 * trained briefly on logged impressions and their engagement, registered ACTIVE.
 * For latency only: features come from the final online state, not point-in-time.
 */
export async function registerBenchModel(pool: Pool, redis: Redis, keys: RedisKeys, catalog: Map<string, CatalogVideo>, dim: number, id: string) {
  const { rows } = await pool.query(
    `SELECT i.user_id, i.video_id,
            bool_or(x.type = 'like') AS "like", bool_or(x.type = 'complete') AS complete,
            bool_or(x.type = 'share') AS share, bool_or(x.type = 'skip') AS skip
     FROM (SELECT * FROM impressions WHERE source = 'seed' ORDER BY id LIMIT $1) i
     JOIN interactions x ON x.request_id = i.request_id AND x.video_id = i.video_id AND x.user_id = i.user_id
     GROUP BY i.id, i.user_id, i.video_id`,
    [ROWS],
  );
  const spec: FeatureSpec = { input: ONNX_INPUT_NAME, output: ONNX_OUTPUT_NAME, features: [...DEFAULT_FEATURE_NAMES], heads: HEADS };
  const features = resolveFeatures(spec);
  const width = features.length;
  const x = new Float32Array(rows.length * width);
  const y = new Float32Array(rows.length * HEADS.length);
  const now = Date.now();
  const byUser = new Map<string, typeof rows>();
  for (const r of rows) byUser.set(r.user_id, [...(byUser.get(r.user_id) ?? []), r]);
  let row = 0;
  for (const [userId, list] of byUser) {
    const state = decodeUserState(await redis.get(keys.userFeatures(userId)), dim);
    const videos = list.map((r) => catalog.get(r.video_id)!);
    const blobs = await redis.mgetBuffer(...list.map((r) => keys.videoStats(r.video_id)));
    const m = buildFeatureMatrix(features, userContext(state, now), videos, blobs.map(decodeVideoStats));
    x.set(m, row * width);
    list.forEach((r, k) => HEADS.forEach((h, j) => (y[(row + k) * HEADS.length + j] = r[h] ? 1 : 0)));
    row += list.length;
  }
  const norm = fitStandardizer(x, rows.length, width);
  const weights = initMlp(width, [32, 16], HEADS, 7);
  trainMlp(weights, { x, y, rows: rows.length }, { epochs: 3, batchSize: 256, learningRate: 0.005, seed: 7, norm });
  const artifact = Buffer.from(exportMlpToOnnx(weights, norm));
  await pool.query(`UPDATE model_versions SET status = 'retired' WHERE status = 'active'`);
  await pool.query(
    `INSERT INTO model_versions (id, status, artifact, artifact_sha256, feature_spec, training_info, activated_at)
     VALUES ($1, 'active', $2, $3, $4, $5, now())`,
    [id, artifact, createHash('sha256').update(artifact).digest('hex'), JSON.stringify(spec), JSON.stringify({ rows: rows.length, purpose: 'feed benchmark' })],
  );
  return { rows: rows.length, features: width };
}
