import { onnx } from 'onnx-proto';
import { MlpWeights, Standardizer } from './mlp';

export interface OnnxExportOptions {
  /** Default 17. Supported: 13..23 (all run on onnxruntime-node 1.30). */
  opset?: number;
  producer?: string;
  producerVersion?: string;
}

export const ONNX_INPUT_NAME = 'features';
export const ONNX_OUTPUT_NAME = 'scores';
export const DEFAULT_OPSET = 17;
const MIN_OPSET = 13;
const MAX_OPSET = 23;

/** Lowest IR version that declares the given opset (per the ONNX versioning table). */
function irVersionFor(opset: number): number {
  if (opset <= 14) return 7;
  if (opset <= 18) return 8;
  if (opset <= 20) return 9;
  if (opset <= 22) return 10;
  return 11;
}

function floatTensor(name: string, dims: number[], values: Float32Array): onnx.ITensorProto {
  // raw_data is defined as little-endian regardless of host byte order.
  const raw = new Uint8Array(values.length * 4);
  const view = new DataView(raw.buffer);
  for (let i = 0; i < values.length; i++) view.setFloat32(i * 4, values[i], true);
  return { name, dims, dataType: onnx.TensorProto.DataType.FLOAT, rawData: raw };
}

function floatValueInfo(name: string, dims: (number | string)[]): onnx.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType: onnx.TensorProto.DataType.FLOAT,
        shape: { dim: dims.map((d) => (typeof d === 'string' ? { dimParam: d } : { dimValue: d })) },
      },
    },
  };
}

function node(opType: string, inputs: string[], output: string): onnx.INodeProto {
  return { opType, input: inputs, output: [output], name: output };
}

function validate(w: MlpWeights, norm: Standardizer): void {
  if (w.layers.length !== w.hidden.length + 1) throw new RangeError('layers do not match hidden sizes');
  let dim = w.inputDim;
  for (const [l, layer] of w.layers.entries()) {
    if (layer.inDim !== dim) throw new RangeError(`layer ${l} expects ${layer.inDim} inputs, previous gives ${dim}`);
    if (layer.weights.length !== layer.inDim * layer.outDim || layer.bias.length !== layer.outDim) {
      throw new RangeError(`layer ${l} weight/bias sizes do not match ${layer.inDim}x${layer.outDim}`);
    }
    dim = layer.outDim;
  }
  if (dim !== w.heads.length) throw new RangeError(`output layer has ${dim} units for ${w.heads.length} heads`);
  if (norm.mean.length !== w.inputDim || norm.std.length !== w.inputDim) {
    throw new RangeError(`standardizer has ${norm.mean.length}/${norm.std.length} values, expected ${w.inputDim}`);
  }
  for (let k = 0; k < w.inputDim; k++) {
    if (!Number.isFinite(norm.mean[k]) || !Number.isFinite(norm.std[k]) || norm.std[k] === 0) {
      throw new RangeError(`standardizer feature ${k} has mean ${norm.mean[k]} and std ${norm.std[k]}`);
    }
  }
}

/**
 * ONNX model computing scores = sigmoid(MLP((features - mean) / std)),
 * input `features` float32 [N, inputDim], output `scores` float32 [N, heads].
 * Head names are stored in the model metadata under "heads" (JSON array).
 */
export function exportMlpToOnnx(w: MlpWeights, norm: Standardizer, opts: OnnxExportOptions = {}): Uint8Array {
  const opset = opts.opset ?? DEFAULT_OPSET;
  if (!Number.isInteger(opset) || opset < MIN_OPSET || opset > MAX_OPSET) {
    throw new RangeError(`opset must be an integer in ${MIN_OPSET}..${MAX_OPSET}, got ${opset}`);
  }
  validate(w, norm);

  const initializer: onnx.ITensorProto[] = [
    floatTensor('norm_mean', [w.inputDim], norm.mean),
    floatTensor('norm_std', [w.inputDim], norm.std),
  ];
  const nodes: onnx.INodeProto[] = [
    node('Sub', [ONNX_INPUT_NAME, 'norm_mean'], 'centered'),
    node('Div', ['centered', 'norm_std'], 'standardized'),
  ];
  let prev = 'standardized';
  const last = w.layers.length - 1;
  w.layers.forEach((layer, l) => {
    initializer.push(floatTensor(`layer${l}_weight`, [layer.inDim, layer.outDim], layer.weights));
    initializer.push(floatTensor(`layer${l}_bias`, [layer.outDim], layer.bias));
    nodes.push(node('MatMul', [prev, `layer${l}_weight`], `layer${l}_matmul`));
    nodes.push(node('Add', [`layer${l}_matmul`, `layer${l}_bias`], `layer${l}_linear`));
    const out = l === last ? ONNX_OUTPUT_NAME : `layer${l}_relu`;
    nodes.push(node(l === last ? 'Sigmoid' : 'Relu', [`layer${l}_linear`], out));
    prev = out;
  });

  const model: onnx.IModelProto = {
    irVersion: irVersionFor(opset),
    opsetImport: [{ domain: '', version: opset }],
    producerName: opts.producer ?? 'reelrank',
    producerVersion: opts.producerVersion ?? '0.1.0',
    metadataProps: [{ key: 'heads', value: JSON.stringify(w.heads) }],
    graph: {
      name: 'reelrank_mlp',
      node: nodes,
      initializer,
      input: [floatValueInfo(ONNX_INPUT_NAME, ['N', w.inputDim])],
      output: [floatValueInfo(ONNX_OUTPUT_NAME, ['N', w.heads.length])],
    },
  };
  const err = onnx.ModelProto.verify(model);
  if (err) throw new Error(`invalid ONNX model: ${err}`);
  return onnx.ModelProto.encode(model).finish();
}

/** Parity of an exported model's scores with the TypeScript model's, as numpy's allclose: |onnx - ts| <= ATOL + RTOL * |ts|. */
export const PARITY_ATOL = 1e-5;
export const PARITY_RTOL = 1e-5;

/**
 * Compares onnxruntime's scores with the TypeScript model's. onnxruntime computes in
 * float32, whose rounding grows with a score's size (a logit of 20 is only good to ~2e-6 a
 * step), so a fixed absolute bound failed sound exports whose scores were large.
 * Returns the largest absolute difference and the first score past its tolerance, if any.
 */
export function exportParity(
  expected: ArrayLike<number>,
  actual: ArrayLike<number>,
): { maxAbsDiff: number; failure: { row: number; diff: number; allowed: number } | null } {
  let maxAbsDiff = 0;
  let failure: { row: number; diff: number; allowed: number } | null = null;
  for (let i = 0; i < expected.length; i++) {
    const diff = Math.abs(expected[i] - actual[i]);
    const allowed = PARITY_ATOL + PARITY_RTOL * Math.abs(expected[i]);
    if (!(diff <= maxAbsDiff)) maxAbsDiff = diff;
    if (failure === null && !(diff <= allowed)) failure = { row: i, diff, allowed };
  }
  return { maxAbsDiff, failure };
}
