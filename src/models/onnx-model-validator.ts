import { FeatureSpec } from '../features/feature-spec';
import { OnnxModelSession, OnnxSessionError } from './onnx-session';

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
  let session: OnnxModelSession;
  try {
    session = await OnnxModelSession.open(artifact, spec);
  } catch (err) {
    if (!(err instanceof OnnxSessionError)) throw err;
    throw new ModelValidationError(err.reason === 'load' ? `artifact is not a loadable ONNX model: ${err.detail}` : err.message);
  }
  try {
    const width = spec.features.length;
    let scores: Float32Array;
    try {
      scores = (await session.run(dummyBatch(width), DUMMY_ROWS)).scores;
    } catch (err) {
      if (!(err instanceof OnnxSessionError)) throw err;
      throw new ModelValidationError(
        err.reason === 'shape'
          ? `output "${spec.output}" is ${err.detail}, expected float32 [${DUMMY_ROWS}, ${spec.heads.length}] (one column per head)`
          : `model failed on a [${DUMMY_ROWS}, ${width}] float32 batch: ${err.detail}`,
      );
    }
    if (scores.some((v) => !(v >= 0 && v <= 1))) {
      throw new ModelValidationError(`output "${spec.output}" must hold probabilities in [0, 1]`);
    }
  } finally {
    await session.release();
  }
}
