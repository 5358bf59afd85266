import { createHash } from 'node:crypto';
import { Redis } from 'ioredis';
import { onnx } from 'onnx-proto';
import { DataSource } from 'typeorm';
import { FeatureSpec } from '../../src/features/feature-spec';
import { ModelStatus } from '../../src/database/entities/model-version.entity';
import { RedisKeys } from '../../src/redis/redis-keys';
import { createRng, fitStandardizer, initMlp, MlpWeights, predict, Standardizer, trainMlp } from '../../src/training/model/mlp';
import { exportMlpToOnnx, ONNX_INPUT_NAME, ONNX_OUTPUT_NAME } from '../../src/training/model/onnx-export';

export interface TestModel {
  id: string;
  spec: FeatureSpec;
  weights: MlpWeights;
  norm: Standardizer;
  artifact: Buffer;
}

export interface TrainTestModelOptions {
  id: string;
  features: string[];
  heads: string[];
  hidden?: number[];
  /** Ground truth the model learns: probability of each head for a raw feature row. */
  truth: (row: Float32Array) => number[];
  /** Range of the random training features (uniform in [0, scale)). */
  scale?: number;
  seed?: number;
}

/** Trains a small MLP with the repo's trainer on random rows labelled by `truth`, exports it to ONNX. */
export function trainTestModel(opts: TrainTestModelOptions): TestModel {
  const dim = opts.features.length;
  const rows = 3000;
  const rng = createRng(opts.seed ?? 1);
  const x = new Float32Array(rows * dim);
  for (let i = 0; i < x.length; i++) x[i] = rng() * (opts.scale ?? 1);
  const y = new Float32Array(rows * opts.heads.length);
  for (let r = 0; r < rows; r++) {
    const p = opts.truth(x.subarray(r * dim, (r + 1) * dim));
    p.forEach((prob, h) => (y[r * opts.heads.length + h] = rng() < prob ? 1 : 0));
  }
  const norm = fitStandardizer(x, rows, dim);
  const weights = initMlp(dim, opts.hidden ?? [8], opts.heads, opts.seed ?? 1);
  trainMlp(weights, { x, y, rows }, { epochs: 8, batchSize: 64, learningRate: 0.02, seed: opts.seed ?? 1, norm });
  return {
    id: opts.id,
    spec: { input: ONNX_INPUT_NAME, output: ONNX_OUTPUT_NAME, features: opts.features, heads: opts.heads },
    weights,
    norm,
    artifact: Buffer.from(exportMlpToOnnx(weights, norm)),
  };
}

/** The model's head probabilities for raw feature rows (what onnxruntime should return). */
export function predictTestModel(model: TestModel, x: Float32Array, rows: number): Float32Array {
  return predict(model.weights, x, rows, model.norm);
}

export interface RegisterOptions {
  status?: ModelStatus;
  /** Overrides the stored checksum (to simulate a corrupt artifact). */
  sha256?: string;
  artifact?: Buffer;
  spec?: unknown;
}

/** Inserts a model_versions row. */
export async function registerModel(db: DataSource, model: TestModel, opts: RegisterOptions = {}): Promise<void> {
  const artifact = opts.artifact ?? model.artifact;
  await db.query(
    `INSERT INTO model_versions (id, status, artifact, artifact_sha256, feature_spec) VALUES ($1, $2, $3, $4, $5)`,
    [
      model.id,
      opts.status ?? 'candidate',
      artifact,
      opts.sha256 ?? createHash('sha256').update(artifact).digest('hex'),
      JSON.stringify(opts.spec ?? model.spec),
    ],
  );
}

/** Activation as the registry does it: one transaction retiring the active version, then the pub/sub announcement. */
export async function activateModel(db: DataSource, redis: Redis, keys: RedisKeys, id: string): Promise<void> {
  await db.transaction(async (tx) => {
    await tx.query(`UPDATE model_versions SET status = 'retired' WHERE status = 'active'`);
    await tx.query(`UPDATE model_versions SET status = 'active', activated_at = now() WHERE id = $1`, [id]);
  });
  await redis.publish(keys.modelChannel, id);
}

/**
 * The same model as `torch.onnx.export` writes an `nn.Sequential` of Linear/ReLU/Linear/
 * Sigmoid: `Gemm` nodes with PyTorch's [out, in] weights (transB=1) and `fc<k>.weight`
 * names, the standardisation folded into the first layer, the caller's input and output
 * names, a `batch_size` dynamic axis and PyTorch's producer fields. Nothing in it comes
 * from the repo's exporter, so serving it shows a model from another tool works.
 */
export function exportTorchStyleOnnx(model: TestModel, names: { input: string; output: string }): Buffer {
  const { weights: w, norm } = model;
  const tensor = (name: string, dims: number[], values: Float32Array): onnx.ITensorProto => ({
    name,
    dims,
    dataType: onnx.TensorProto.DataType.FLOAT,
    floatData: Array.from(values),
  });
  const initializer: onnx.ITensorProto[] = [];
  const nodes: onnx.INodeProto[] = [];
  let prev = names.input;
  w.layers.forEach((layer, l) => {
    const { inDim, outDim } = layer;
    const weightOutIn = new Float32Array(outDim * inDim);
    const bias = Float32Array.from(layer.bias);
    for (let i = 0; i < inDim; i++) {
      for (let j = 0; j < outDim; j++) {
        let wij = layer.weights[i * outDim + j];
        if (l === 0) {
          // (x - mean) / std folded in: W' = W / std, b' = b - sum_i W_ij mean_i / std_i
          wij /= norm.std[i];
          bias[j] -= wij * norm.mean[i];
        }
        weightOutIn[j * inDim + i] = wij;
      }
    }
    initializer.push(tensor(`fc${l}.weight`, [outDim, inDim], weightOutIn), tensor(`fc${l}.bias`, [outDim], bias));
    const gemm = `/fc${l}/Gemm_output_0`;
    nodes.push({
      opType: 'Gemm',
      name: `/fc${l}/Gemm`,
      input: [prev, `fc${l}.weight`, `fc${l}.bias`],
      output: [gemm],
      attribute: [
        { name: 'alpha', type: onnx.AttributeProto.AttributeType.FLOAT, f: 1 },
        { name: 'beta', type: onnx.AttributeProto.AttributeType.FLOAT, f: 1 },
        { name: 'transB', type: onnx.AttributeProto.AttributeType.INT, i: 1 },
      ],
    });
    const last = l === w.layers.length - 1;
    const out = last ? names.output : `/act${l}/Relu_output_0`;
    nodes.push({ opType: last ? 'Sigmoid' : 'Relu', name: last ? '/out/Sigmoid' : `/act${l}/Relu`, input: [gemm], output: [out] });
    prev = out;
  });
  const valueInfo = (name: string, width: number): onnx.IValueInfoProto => ({
    name,
    type: { tensorType: { elemType: onnx.TensorProto.DataType.FLOAT, shape: { dim: [{ dimParam: 'batch_size' }, { dimValue: width }] } } },
  });
  const proto: onnx.IModelProto = {
    irVersion: 8,
    producerName: 'pytorch',
    producerVersion: '2.5.1',
    opsetImport: [{ domain: '', version: 17 }],
    graph: {
      name: 'main_graph',
      node: nodes,
      initializer,
      input: [valueInfo(names.input, w.inputDim)],
      output: [valueInfo(names.output, w.heads.length)],
    },
  };
  return Buffer.from(onnx.ModelProto.encode(proto).finish());
}
