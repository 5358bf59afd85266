import { InferenceSession, Tensor } from 'onnxruntime-node';
import { FeatureSpec } from '../features/feature-spec';

export class ModelValidationError extends Error {}

const DUMMY_ROWS = 3;

/** Rows of zeros, ones and a ramp: enough to catch wrong shapes, NaNs and non-probability outputs. */
function dummyBatch(width: number): Float32Array {
  const x = new Float32Array(DUMMY_ROWS * width);
  for (let j = 0; j < width; j++) {
    x[width + j] = 1;
    x[2 * width + j] = (j + 1) / width;
  }
  return x;
}

/**
 * Loads an ONNX artifact in onnxruntime and runs a dummy batch shaped by its feature
 * spec, exactly as serving will; throws ModelValidationError saying what is wrong.
 */
export async function validateOnnxModel(artifact: Uint8Array, spec: FeatureSpec): Promise<void> {
  let session: InferenceSession;
  try {
    session = await InferenceSession.create(artifact);
  } catch (err) {
    throw new ModelValidationError(`artifact is not a loadable ONNX model: ${(err as Error).message}`);
  }
  try {
    if (!session.inputNames.includes(spec.input)) {
      throw new ModelValidationError(`model has no input "${spec.input}" (inputs: ${session.inputNames.join(', ')})`);
    }
    if (!session.outputNames.includes(spec.output)) {
      throw new ModelValidationError(`model has no output "${spec.output}" (outputs: ${session.outputNames.join(', ')})`);
    }
    const width = spec.features.length;
    let out: Tensor;
    try {
      const result = await session.run({ [spec.input]: new Tensor('float32', dummyBatch(width), [DUMMY_ROWS, width]) }, [spec.output]);
      out = result[spec.output];
    } catch (err) {
      throw new ModelValidationError(`model failed on a [${DUMMY_ROWS}, ${width}] float32 batch: ${(err as Error).message}`);
    }
    const expected = [DUMMY_ROWS, spec.heads.length];
    if (out.type !== 'float32' || out.dims.length !== 2 || out.dims[0] !== expected[0] || out.dims[1] !== expected[1]) {
      throw new ModelValidationError(
        `output "${spec.output}" is ${out.type} [${out.dims.join(', ')}], expected float32 [${expected.join(', ')}] (one column per head)`,
      );
    }
    const scores = out.data as Float32Array;
    if (scores.some((v) => !(v >= 0 && v <= 1))) {
      throw new ModelValidationError(`output "${spec.output}" must hold probabilities in [0, 1]`);
    }
  } finally {
    await session.release();
  }
}
