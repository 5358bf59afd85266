import { FeatureSpec } from '../../src/features/feature-spec';
import { fitStandardizer, initMlp, trainMlp } from '../../src/training/model/mlp';
import { exportMlpToOnnx } from '../../src/training/model/onnx-export';
import { makeSyntheticData } from '../../src/training/model/synthetic-data';

/** A small trained ONNX ranker and its feature spec, as an external tool would hand them over. */
export function buildOnnxModel(features = ['user_video_cosine', 'video_like_rate', 'user_category_share'], heads = ['like', 'skip']) {
  const data = makeSyntheticData(500, Math.max(3, features.length), heads.length, 1);
  const dim = features.length;
  const x = new Float32Array(data.rows * dim);
  for (let r = 0; r < data.rows; r++) for (let j = 0; j < dim; j++) x[r * dim + j] = data.x[r * data.dim + j];
  const norm = fitStandardizer(x, data.rows, dim);
  const weights = initMlp(dim, [8], heads, 3);
  trainMlp(weights, { x, y: data.y, rows: data.rows }, { epochs: 1, batchSize: 64, learningRate: 0.01, seed: 1, norm });
  const spec: FeatureSpec = { input: 'features', output: 'scores', features, heads };
  return { artifact: Buffer.from(exportMlpToOnnx(weights, norm)), spec };
}
