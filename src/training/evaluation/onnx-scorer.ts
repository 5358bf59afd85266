import { InferenceSession, Tensor } from 'onnxruntime-node';
import { FeatureSpec } from '../../features/feature-spec';

const BATCH_ROWS = 8192;

/** Scores feature matrices with an ONNX model offline (parity checks, evaluating the active model). */
export class OnnxScorer {
  private constructor(
    private readonly session: InferenceSession,
    readonly spec: FeatureSpec,
  ) {}

  static async load(artifact: Uint8Array, spec: FeatureSpec): Promise<OnnxScorer> {
    return new OnnxScorer(await InferenceSession.create(artifact), spec);
  }

  /** rows x heads probabilities for a row-major rows x features matrix. */
  async score(x: Float32Array, rows: number): Promise<Float32Array> {
    const width = this.spec.features.length;
    const heads = this.spec.heads.length;
    const out = new Float32Array(rows * heads);
    for (let start = 0; start < rows; start += BATCH_ROWS) {
      const n = Math.min(BATCH_ROWS, rows - start);
      const input = new Tensor('float32', x.subarray(start * width, (start + n) * width), [n, width]);
      const result = await this.session.run({ [this.spec.input]: input }, [this.spec.output]);
      out.set(result[this.spec.output].data as Float32Array, start * heads);
    }
    return out;
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}
