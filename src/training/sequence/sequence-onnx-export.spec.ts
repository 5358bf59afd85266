import { onnx } from 'onnx-proto';
import { InferenceSession, Tensor } from 'onnxruntime-node';
import { encodeUsers, SequenceModel } from './sequence-model';
import { exportSequenceEncoderToOnnx, SEQUENCE_ONNX_ITEMS, SEQUENCE_ONNX_TYPES, SEQUENCE_ONNX_USER, sequenceOnnxInputs } from './sequence-onnx-export';
import { createRng } from './sequence-weights';
import { trainSequenceModel } from './train-sequence-model';

const NUM_ITEMS = 40;
const NUM_TYPES = 3;
const L = 8;

function randomHistories(count: number, seed: number, lengths?: number[]): { sequences: Int32Array[]; types: Int32Array[] } {
  const rng = createRng(seed);
  const sequences: Int32Array[] = [];
  const types: Int32Array[] = [];
  for (let u = 0; u < count; u++) {
    const n = lengths?.[u] ?? 2 + Math.floor(rng() * 15);
    sequences.push(Int32Array.from({ length: n }, () => 1 + Math.floor(rng() * NUM_ITEMS)));
    types.push(Int32Array.from({ length: n }, () => Math.floor(rng() * NUM_TYPES)));
  }
  return { sequences, types };
}

async function runOnnx(bytes: Uint8Array, sequences: Int32Array[], types?: Int32Array[]): Promise<Tensor> {
  const session = await InferenceSession.create(bytes);
  try {
    const inputs = sequenceOnnxInputs(L, sequences, types);
    const result = await session.run({
      [SEQUENCE_ONNX_ITEMS]: new Tensor('int64', inputs.items, [sequences.length, L]),
      [SEQUENCE_ONNX_TYPES]: new Tensor('int64', inputs.types, [sequences.length, L]),
    });
    return result[SEQUENCE_ONNX_USER];
  } finally {
    await session.release();
  }
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

describe('exportSequenceEncoderToOnnx', () => {
  let model: SequenceModel;
  let bytes: Uint8Array;

  beforeAll(async () => {
    model = await trainSequenceModel({ ...randomHistories(150, 1), numItems: NUM_ITEMS, numTypes: NUM_TYPES }, { dim: 16, maxLength: L, numBlocks: 2, epochs: 2, seed: 4 });
    bytes = exportSequenceEncoderToOnnx(model);
  });

  it('encodes users like encodeUsers within 1e-4, at every history length', async () => {
    // 0 (empty), 1, shorter than L, exactly L and longer than L (only the last L count).
    const { sequences, types } = randomHistories(7, 9, [0, 1, 3, 7, 8, 9, 30]);
    const expected = encodeUsers(model, sequences, types);
    const user = await runOnnx(bytes, sequences, types);
    expect(user.type).toBe('float32');
    expect(user.dims).toEqual([7, 16]);
    expect(maxAbsDiff(user.data as Float32Array, expected)).toBeLessThan(1e-4);
    // Different histories give different vectors, otherwise parity would prove little.
    expect(maxAbsDiff(expected.subarray(3 * 16, 4 * 16), expected.subarray(4 * 16, 5 * 16))).toBeGreaterThan(0.1);
  });

  it('matches on a larger batch without types', async () => {
    const { sequences } = randomHistories(200, 12);
    const user = await runOnnx(bytes, sequences);
    expect(maxAbsDiff(user.data as Float32Array, encodeUsers(model, sequences))).toBeLessThan(1e-4);
  });

  it('declares the serving contract', async () => {
    const decoded = onnx.ModelProto.decode(bytes);
    expect(Number(decoded.opsetImport[0].version)).toBe(17);
    const meta = Object.fromEntries(decoded.metadataProps.map((p) => [p.key, p.value]));
    expect(meta).toEqual({ numItems: '40', dim: '16', maxLength: String(L), numTypes: '3', numBlocks: '2' });
    const session = await InferenceSession.create(bytes);
    expect(session.inputNames).toEqual([SEQUENCE_ONNX_ITEMS, SEQUENCE_ONNX_TYPES]);
    expect(session.outputNames).toEqual([SEQUENCE_ONNX_USER]);
    await session.release();
  });

  it('pads histories on the left and keeps only the last maxLength', () => {
    const inputs = sequenceOnnxInputs(4, [Int32Array.from([5, 6]), Int32Array.from([1, 2, 3, 4, 5, 6])], [Int32Array.from([2, 1]), Int32Array.from([0, 0, 1, 2, 1, 0])]);
    expect(Array.from(inputs.items, Number)).toEqual([0, 0, 5, 6, 3, 4, 5, 6]);
    expect(Array.from(inputs.types, Number)).toEqual([0, 0, 2, 1, 1, 2, 1, 0]);
  });
});
