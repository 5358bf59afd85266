import { onnx } from 'onnx-proto';
import { SequenceModel } from './sequence-model';
import { denseViews, LAYER_NORM_EPS } from './sequence-weights';

export const SEQUENCE_ONNX_ITEMS = 'items';
export const SEQUENCE_ONNX_TYPES = 'types';
export const SEQUENCE_ONNX_USER = 'user';
/** LayerNormalization is a single op from opset 17. */
const OPSET = 17;
const IR_VERSION = 8;
const MASKED = 1e9;

const { FLOAT, INT64 } = onnx.TensorProto.DataType;

function floatTensor(name: string, dims: number[], values: ArrayLike<number>): onnx.ITensorProto {
  // raw_data is little-endian regardless of host byte order.
  const raw = new Uint8Array(values.length * 4);
  const view = new DataView(raw.buffer);
  for (let i = 0; i < values.length; i++) view.setFloat32(i * 4, values[i], true);
  return { name, dims, dataType: FLOAT, rawData: raw };
}

function int64Tensor(name: string, dims: number[], values: number[]): onnx.ITensorProto {
  const raw = new Uint8Array(values.length * 8);
  const view = new DataView(raw.buffer);
  values.forEach((v, i) => view.setBigInt64(i * 8, BigInt(v), true));
  return { name, dims, dataType: INT64, rawData: raw };
}

function valueInfo(name: string, elemType: number, dims: (number | string)[]): onnx.IValueInfoProto {
  return {
    name,
    type: { tensorType: { elemType, shape: { dim: dims.map((d) => (typeof d === 'string' ? { dimParam: d } : { dimValue: d })) } } },
  };
}

type Attr = { name: string; i?: number; f?: number; ints?: number[] };

function attribute({ name, i, f, ints }: Attr): onnx.IAttributeProto {
  const { AttributeType } = onnx.AttributeProto;
  if (ints) return { name, type: AttributeType.INTS, ints };
  if (f !== undefined) return { name, type: AttributeType.FLOAT, f };
  return { name, type: AttributeType.INT, i };
}

/**
 * ONNX graph of `encodeUsers`: `items` int64 [N, maxLength] and `types` int64 [N, maxLength],
 * left-padded with 0, give `user` float [N, dim]. The item table is an initializer
 * (Gather), so the file grows with numItems x dim x 4 bytes.
 */
export function exportSequenceEncoderToOnnx(model: SequenceModel): Uint8Array {
  const { dim, maxLength: L, numTypes, numItems } = model;
  const w = denseViews(model.dense, model);
  const nodes: onnx.INodeProto[] = [];
  const op = (opType: string, inputs: string[], output: string, attrs: Attr[] = []) => {
    nodes.push({ opType, input: inputs, output: [output], name: output, attribute: attrs.map(attribute) });
    return output;
  };
  const causal = new Float32Array(L * L);
  for (let i = 0; i < L; i++) for (let j = 0; j <= i; j++) causal[i * L + j] = 1;
  const initializer: onnx.ITensorProto[] = [
    floatTensor('item_table', [numItems + 1, dim], model.itemEmbeddings),
    floatTensor('type_table', [numTypes, dim], w.types),
    floatTensor('positions', [L, dim], w.positions),
    floatTensor('causal', [1, L, L], causal),
    floatTensor('one', [], [1]),
    floatTensor('masked', [], [MASKED]),
    floatTensor('scale', [], [1 / Math.sqrt(dim)]),
    floatTensor('final_gain', [dim], w.finalGain),
    floatTensor('final_bias', [dim], w.finalBias),
    int64Tensor('zero', [], [0]),
    int64Tensor('last', [], [L - 1]),
    int64Tensor('axis1', [1], [1]),
    int64Tensor('axis2', [1], [2]),
  ];
  const layerNorm = (x: string, gain: string, bias: string, out: string) => op('LayerNormalization', [x, gain, bias], out, [{ name: 'axis', i: -1 }, { name: 'epsilon', f: LAYER_NORM_EPS }]);

  const summed = op('Add', [op('Add', [op('Gather', ['item_table', SEQUENCE_ONNX_ITEMS], 'item_emb'), op('Gather', ['type_table', SEQUENCE_ONNX_TYPES], 'type_emb')], 'item_type'), 'positions'], 'embedded');
  const valid = op('Cast', [op('Greater', [SEQUENCE_ONNX_ITEMS, 'zero'], 'is_item')], 'valid', [{ name: 'to', i: FLOAT }]);
  const rowMask = op('Unsqueeze', [valid, 'axis2'], 'row_mask');
  const allowed = op('Mul', ['causal', op('Unsqueeze', [valid, 'axis1'], 'key_mask')], 'allowed');
  const attnBias = op('Mul', [op('Sub', [allowed, 'one'], 'blocked'), 'masked'], 'attn_bias');
  let x = op('Mul', [summed, rowMask], 'x0');

  w.blocks.forEach((blk, b) => {
    const p = `b${b}_`;
    for (const [name, dims, values] of [
      ['norm1_gain', [dim], blk.norm1Gain],
      ['norm1_bias', [dim], blk.norm1Bias],
      ['query', [dim, dim], blk.query],
      ['key', [dim, dim], blk.key],
      ['value', [dim, dim], blk.value],
      ['norm2_gain', [dim], blk.norm2Gain],
      ['norm2_bias', [dim], blk.norm2Bias],
      ['ffn1', [dim, dim], blk.ffn1],
      ['ffn1_bias', [dim], blk.ffn1Bias],
      ['ffn2', [dim, dim], blk.ffn2],
      ['ffn2_bias', [dim], blk.ffn2Bias],
    ] as const) {
      initializer.push(floatTensor(p + name, [...dims], values));
    }
    const n1 = layerNorm(x, `${p}norm1_gain`, `${p}norm1_bias`, `${p}n1`);
    const q = op('MatMul', [n1, `${p}query`], `${p}q`);
    const k = op('MatMul', [n1, `${p}key`], `${p}k`);
    const v = op('MatMul', [n1, `${p}value`], `${p}v`);
    const kt = op('Transpose', [k], `${p}kt`, [{ name: 'perm', ints: [0, 2, 1] }]);
    const scores = op('Add', [op('Mul', [op('MatMul', [q, kt], `${p}qk`), 'scale'], `${p}scaled`), attnBias], `${p}scores`);
    const probs = op('Softmax', [scores], `${p}probs`, [{ name: 'axis', i: -1 }]);
    const h = op('Add', [x, op('MatMul', [probs, v], `${p}attn`)], `${p}h`);
    const n2 = layerNorm(h, `${p}norm2_gain`, `${p}norm2_bias`, `${p}n2`);
    const f1 = op('Relu', [op('Add', [op('MatMul', [n2, `${p}ffn1`], `${p}f1_mm`), `${p}ffn1_bias`], `${p}f1_lin`)], `${p}f1`);
    const f2 = op('Add', [op('MatMul', [f1, `${p}ffn2`], `${p}f2_mm`), `${p}ffn2_bias`], `${p}f2`);
    x = op('Mul', [op('Add', [h, f2], `${p}y`), rowMask], `${p}out`);
  });
  const lastRow = op('Gather', [x, 'last'], 'last_row', [{ name: 'axis', i: 1 }]);
  layerNorm(lastRow, 'final_gain', 'final_bias', SEQUENCE_ONNX_USER);

  const proto: onnx.IModelProto = {
    irVersion: IR_VERSION,
    opsetImport: [{ domain: '', version: OPSET }],
    producerName: 'reelrank',
    producerVersion: '0.1.0',
    metadataProps: Object.entries({ numItems, dim, maxLength: L, numTypes, numBlocks: model.numBlocks }).map(([key, value]) => ({ key, value: String(value) })),
    graph: {
      name: 'reelrank_sequence_encoder',
      node: nodes,
      initializer,
      input: [valueInfo(SEQUENCE_ONNX_ITEMS, INT64, ['N', L]), valueInfo(SEQUENCE_ONNX_TYPES, INT64, ['N', L])],
      output: [valueInfo(SEQUENCE_ONNX_USER, FLOAT, ['N', dim])],
    },
  };
  const err = onnx.ModelProto.verify(proto);
  if (err) throw new Error(`invalid ONNX model: ${err}`);
  return onnx.ModelProto.encode(proto).finish();
}

/** The graph's inputs for a batch of histories: the last maxLength items (and types), left-padded with 0. */
export function sequenceOnnxInputs(maxLength: number, sequences: Int32Array[], types?: Int32Array[]): { items: BigInt64Array; types: BigInt64Array } {
  const items = new BigInt64Array(sequences.length * maxLength);
  const typeIds = new BigInt64Array(sequences.length * maxLength);
  sequences.forEach((seq, u) => {
    const n = Math.min(seq.length, maxLength);
    const at = u * maxLength + maxLength - n;
    for (let i = 0; i < n; i++) {
      items[at + i] = BigInt(seq[seq.length - n + i]);
      typeIds[at + i] = BigInt(types?.[u][seq.length - n + i] ?? 0);
    }
  });
  return { items, types: typeIds };
}
