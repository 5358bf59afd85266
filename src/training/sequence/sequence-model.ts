import { SequencePass } from './sequence-pass';
import { denseViews, SequenceShape } from './sequence-weights';

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

/** One user vector per sequence, from its last `maxLength` items: [sequences.length][dim]. */
export function encodeUsers(model: SequenceModel, sequences: Int32Array[], types?: Int32Array[]): Float32Array {
  checkSequences(sequences, types, model.numItems, model.numTypes);
  const { dim, maxLength } = model;
  const weights = denseViews(Float64Array.from(model.dense), model);
  const pass = new SequencePass(model);
  const users = new Float32Array(sequences.length * dim);
  sequences.forEach((seq, u) => {
    const from = Math.max(0, seq.length - maxLength);
    pass.forward(weights, model.itemEmbeddings, seq, types?.[u], from, seq.length);
    // An empty history has no rows: the final layer norm of a zero row is its bias (as in the ONNX graph).
    const row = pass.n > 0 ? pass.out.subarray((pass.n - 1) * dim, pass.n * dim) : weights.finalBias;
    users.set(row, u * dim);
  });
  return users;
}
