import { performance } from 'node:perf_hooks';
import { InferenceSession, Tensor } from 'onnxruntime-node';
import type { FeatureSpec } from '../features/feature-spec';

/** Why a model could not be opened or run: `load` (not an ONNX model), `spec` (input or output missing), `run` (inference threw), `shape` (output not float32 [rows, heads]). */
export class OnnxSessionError extends Error {
  constructor(
    readonly reason: 'load' | 'spec' | 'run' | 'shape',
    message: string,
    /** onnxruntime's own message (load, run) or the output's type and dims (shape). */
    readonly detail: string,
  ) {
    super(message);
  }
}

/** One thread per session: the api serves many small batches concurrently on a 2-core budget. */
export const SERVING_SESSION_OPTIONS: InferenceSession.SessionOptions = {
  intraOpNumThreads: 1,
  interOpNumThreads: 1,
  executionMode: 'sequential',
  graphOptimizationLevel: 'all',
};

/**
 * A model opened in onnxruntime for its feature spec: float32 [rows, features] in,
 * float32 [rows, heads] out. The one place sessions are opened, run and released, for
 * serving, training evaluation, drift and validation.
 */
export class OnnxModelSession {
  readonly width: number;
  readonly heads: number;

  private constructor(
    private readonly session: InferenceSession,
    readonly spec: FeatureSpec,
  ) {
    this.width = spec.features.length;
    this.heads = spec.heads.length;
  }

  /** Loads the artifact and checks that the spec's input and output exist. */
  static async open(artifact: Uint8Array, spec: FeatureSpec, options?: InferenceSession.SessionOptions): Promise<OnnxModelSession> {
    let session: InferenceSession;
    try {
      session = options ? await InferenceSession.create(artifact, options) : await InferenceSession.create(artifact);
    } catch (err) {
      const detail = (err as Error).message;
      throw new OnnxSessionError('load', `onnxruntime could not load the model: ${detail}`, detail);
    }
    const missing = !session.inputNames.includes(spec.input)
      ? `model has no input "${spec.input}" (inputs: ${session.inputNames.join(', ')})`
      : !session.outputNames.includes(spec.output)
        ? `model has no output "${spec.output}" (outputs: ${session.outputNames.join(', ')})`
        : null;
    if (missing) {
      await session.release();
      throw new OnnxSessionError('spec', missing, missing);
    }
    return new OnnxModelSession(session, spec);
  }

  /**
   * One batched inference over the first `rows` rows of `matrix`: rows x heads scores.
   * onnxruntime-node runs it synchronously inside a setImmediate callback, so the wall
   * time from the call includes waiting for the event loop behind every other request. A
   * marker queued just before it (immediates run in order) stamps when the loop reached
   * the inference, so `inferenceMs` is the model's own time, not a busy process's.
   */
  async run(matrix: Float32Array, rows: number): Promise<{ scores: Float32Array; inferenceMs: number }> {
    const input = new Tensor('float32', matrix.subarray(0, rows * this.width), [rows, this.width]);
    let reachedAt = performance.now();
    setImmediate(() => (reachedAt = performance.now()));
    let output: Tensor;
    try {
      output = (await this.session.run({ [this.spec.input]: input }, [this.spec.output]))[this.spec.output];
    } catch (err) {
      const detail = (err as Error).message;
      throw new OnnxSessionError('run', detail, detail);
    }
    const inferenceMs = performance.now() - reachedAt;
    if (output.type !== 'float32' || output.dims.length !== 2 || output.dims[0] !== rows || output.dims[1] !== this.heads) {
      const detail = `${output.type} [${output.dims.join(', ')}]`;
      throw new OnnxSessionError('shape', `model returned ${detail}, spec expects float32 [${rows}, ${this.heads}]`, detail);
    }
    return { scores: output.data as Float32Array, inferenceMs };
  }

  /** rows x heads scores for a matrix of any size, run `chunkRows` rows at a time (offline scoring), `betweenChunks` awaited after each but the last. */
  async runChunked(matrix: Float32Array, rows: number, chunkRows: number, betweenChunks?: () => Promise<void>): Promise<Float32Array> {
    const out = new Float32Array(rows * this.heads);
    for (let start = 0; start < rows; start += chunkRows) {
      const n = Math.min(chunkRows, rows - start);
      const { scores } = await this.run(matrix.subarray(start * this.width, (start + n) * this.width), n);
      out.set(scores, start * this.heads);
      if (start + n < rows) await betweenChunks?.();
    }
    return out;
  }

  release(): Promise<void> {
    return this.session.release();
  }
}
