import { SequencePass } from './sequence-pass';
import { DenseWeights, denseViews, SequenceShape } from './sequence-weights';

/**
 * A trained SASRec-style encoder. Items are 1..numItems (0 is padding); the score of item j
 * for a user is dot(encodeUsers(...) row, itemEmbeddings row j), so the item table can
 * back an inner-product ANN index.
 */
export interface SequenceModel extends SequenceShape {
  /** [numItems + 1][dim]; row 0 (padding) is all zeros. */
  itemEmbeddings: Float32Array;
  /** Every other weight, laid out as `denseViews` reads it. */
  dense: Float32Array;
}

export function itemEmbeddings(model: SequenceModel): Float32Array {
  return model.itemEmbeddings;
}

export function checkSequences(sequences: Int32Array[], types: Int32Array[] | undefined, numItems: number, numTypes: number): void {
  if (types && types.length !== sequences.length) throw new RangeError(`${types.length} type sequences for ${sequences.length} item sequences`);
  sequences.forEach((seq, u) => {
    for (const item of seq) {
      if (!Number.isInteger(item) || item < 1 || item > numItems) throw new RangeError(`sequence ${u} holds item ${item} outside 1..${numItems}`);
    }
    const t = types?.[u];
    if (!t) return;
    if (t.length !== seq.length) throw new RangeError(`sequence ${u} has ${seq.length} items and ${t.length} types`);
    for (const type of t) if (type < 0 || type >= numTypes) throw new RangeError(`sequence ${u} holds type ${type} outside 0..${numTypes - 1}`);
  });
}

/** Encodes one history at a time with a model's weights, reusing one set of buffers: the TypeScript twin of the ONNX encoder. */
export class SequenceEncoder {
  private readonly weights: DenseWeights<Float64Array>;
  private readonly pass: SequencePass;

  constructor(private readonly model: SequenceModel) {
    this.weights = denseViews(Float64Array.from(model.dense), model);
    this.pass = new SequencePass(model);
  }

  /** The user vector of a history's last `maxLength` items (a copy, `dim` floats). */
  encode(seq: Int32Array, types?: Int32Array): Float32Array {
    const { dim, maxLength } = this.model;
    const pass = this.pass;
    pass.forward(this.weights, this.model.itemEmbeddings, seq, types, Math.max(0, seq.length - maxLength), seq.length);
    // An empty history has no rows: the final layer norm of a zero row is its bias (as in the ONNX graph).
    const row = pass.n > 0 ? pass.out.subarray((pass.n - 1) * dim, pass.n * dim) : this.weights.finalBias;
    return Float32Array.from(row);
  }
}

/** One user vector per sequence, from its last `maxLength` items: [sequences.length][dim]. */
export function encodeUsers(model: SequenceModel, sequences: Int32Array[], types?: Int32Array[]): Float32Array {
  checkSequences(sequences, types, model.numItems, model.numTypes);
  const encoder = new SequenceEncoder(model);
  const users = new Float32Array(sequences.length * model.dim);
  sequences.forEach((seq, u) => users.set(encoder.encode(seq, types?.[u]), u * model.dim));
  return users;
}
