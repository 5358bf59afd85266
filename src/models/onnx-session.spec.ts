import { fitStandardizer, initMlp } from '../training/model/mlp';
import { exportMlpToOnnx } from '../training/model/onnx-export';
import { OnnxModelSession, OnnxSessionError } from './onnx-session';

const features = ['video_like_rate', 'video_skip_rate'];
const spec = { input: 'features', output: 'scores', features, heads: ['like', 'skip'] };
const rows = 7;
const x = Float32Array.from({ length: rows * features.length }, (_, i) => (i % 5) / 5);
const artifact = exportMlpToOnnx(initMlp(features.length, [4], spec.heads, 3), fitStandardizer(x, rows, features.length));

describe(OnnxModelSession.name, () => {
  it('scores rows x heads, the same in one call as in chunks', async () => {
    const session = await OnnxModelSession.open(artifact, spec);
    try {
      const { scores } = await session.run(x, rows);
      expect(scores).toHaveLength(rows * spec.heads.length);
      expect(Array.from(await session.runChunked(x, rows, 3))).toEqual(Array.from(scores));
    } finally {
      await session.release();
    }
  });

  it('says which stage refused a model', async () => {
    await expect(OnnxModelSession.open(Buffer.from('not onnx'), spec)).rejects.toMatchObject({ reason: 'load' });
    await expect(OnnxModelSession.open(artifact, { ...spec, input: 'x' })).rejects.toMatchObject({ reason: 'spec', message: expect.stringMatching(/no input "x"/) });
    const wrongHeads = await OnnxModelSession.open(artifact, { ...spec, heads: ['like', 'skip', 'share'] });
    try {
      await expect(wrongHeads.run(x, rows)).rejects.toBeInstanceOf(OnnxSessionError);
      await expect(wrongHeads.run(x, rows)).rejects.toMatchObject({ reason: 'shape', detail: `float32 [${rows}, 2]` });
    } finally {
      await wrongHeads.release();
    }
  });
});
