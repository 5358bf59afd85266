/**
 * Decodes a Postgres `real[]` in its binary send format (`array_send(col)`, which
 * node-postgres returns as a Buffer): int32 dimensions, has-nulls flag and element type,
 * then a length and lower bound per dimension, then each element as an int32 length (-1
 * for NULL) and a big-endian float4. The elements of every dimension in order; NULL is NaN.
 *
 * Reading feature rows this way instead of as text arrays (which node-postgres parses
 * character by character) takes 50,000 rows of 29 floats from ~720 to ~135 ms of client
 * CPU (bench/monitoring/drift-rows.ts). pg-types has no binary parser for float4[].
 */
export function decodeFloat4ArraySend(bytes: Buffer): Float32Array {
  const out = new Float32Array(float4ArraySendLength(bytes));
  decodeFloat4ArraySendInto(bytes, out, 0);
  return out;
}

/** How many elements a `real[]` in its binary send format holds (all dimensions). */
export function float4ArraySendLength(bytes: Buffer): number {
  const dimensions = bytes.readInt32BE(0);
  if (dimensions === 0) return 0;
  let count = 1;
  for (let d = 0; d < dimensions; d++) count *= bytes.readInt32BE(12 + d * 8);
  return count;
}

/** decodeFloat4ArraySend, into `out` from `offset` (room for float4ArraySendLength(bytes) elements). */
export function decodeFloat4ArraySendInto(bytes: Buffer, out: Float32Array, offset: number): void {
  const dimensions = bytes.readInt32BE(0);
  const count = float4ArraySendLength(bytes);
  let at = 12 + dimensions * 8;
  for (let i = 0; i < count; i++) {
    const length = bytes.readInt32BE(at);
    at += 4;
    if (length < 0) {
      out[offset + i] = NaN;
      continue;
    }
    if (length !== 4) throw new Error(`not a real[]: element ${i} is ${length} bytes`);
    out[offset + i] = bytes.readFloatBE(at);
    at += 4;
  }
}
