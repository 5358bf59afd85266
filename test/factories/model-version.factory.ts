import { createHash } from 'node:crypto';
import { DataSource } from 'typeorm';
import { ModelVersionEntity } from '../../src/database/entities';
import { FeatureSpec } from '../../src/features';
import { computeBaseline } from '../../src/monitoring/drift-baseline';
import { fitStandardizer, initMlp, MlpWeights, predict, Standardizer } from '../../src/training/model/mlp';
import { exportMlpToOnnx, ONNX_INPUT_NAME, ONNX_OUTPUT_NAME } from '../../src/training/model/onnx-export';
import { uniqueId } from './sequence';

export interface TestModel {
  entity: ModelVersionEntity;
  spec: FeatureSpec;
  weights: MlpWeights;
  norm: Standardizer;
}

/**
 * A registered model whose ONNX artifact is a small (untrained, seeded) MLP over
 * `features`. With `trainingRows` (row-major, features wide) the training baseline is
 * computed from them and the model's own scores, as the training pipeline does.
 */
export async function createModelVersion(
  dataSource: DataSource,
  opts: {
    features: string[];
    heads?: string[];
    status?: ModelVersionEntity['status'];
    trainingRows?: Float32Array;
    seed?: number;
  },
): Promise<TestModel> {
  const heads = opts.heads ?? ['like', 'complete', 'skip'];
  const dim = opts.features.length;
  const weights = initMlp(dim, [8], heads, opts.seed ?? 1);
  const calibration = opts.trainingRows ?? new Float32Array(dim * 2).map((_, i) => i);
  const norm = fitStandardizer(calibration, calibration.length / dim, dim);
  const artifact = Buffer.from(exportMlpToOnnx(weights, norm));
  const spec: FeatureSpec = { input: ONNX_INPUT_NAME, output: ONNX_OUTPUT_NAME, features: opts.features, heads };
  const trainingInfo: Record<string, unknown> = {};
  if (opts.trainingRows) {
    const rows = opts.trainingRows.length / dim;
    const scores = predict(weights, opts.trainingRows, rows, norm);
    const perHead = Object.fromEntries(
      heads.map((head, h) => [head, Float32Array.from({ length: rows }, (_, i) => scores[i * heads.length + h])]),
    );
    trainingInfo.baseline = computeBaseline(opts.features, opts.trainingRows, perHead);
  }
  const entity = await dataSource.getRepository(ModelVersionEntity).save(
    Object.assign(new ModelVersionEntity(), {
      id: uniqueId('model'),
      status: opts.status ?? 'active',
      artifact,
      artifactSha256: createHash('sha256').update(artifact).digest('hex'),
      featureSpec: spec as unknown as Record<string, unknown>,
      metrics: {},
      trainingInfo,
      activatedAt: new Date(),
    }),
  );
  return { entity, spec, weights, norm };
}
