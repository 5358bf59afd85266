import { runInThisContext } from 'vm';

/**
 * Jest runs each test file in its own vm realm, but onnxruntime-node's native
 * binding creates output typed arrays in Node's main realm, so
 * onnxruntime-common's `instanceof Float32Array` check rejects them
 * (microsoft/onnxruntime#16622). Import this module before onnxruntime-node in
 * a spec to make the test realm use the main realm's typed-array constructors.
 * Outside Jest both realms are the same and this is a no-op.
 */
const TYPED_ARRAYS = [
  'Float32Array',
  'Float64Array',
  'Int8Array',
  'Int16Array',
  'Int32Array',
  'Uint8Array',
  'Uint16Array',
  'Uint32Array',
  'BigInt64Array',
  'BigUint64Array',
] as const;

for (const name of TYPED_ARRAYS) {
  const outer: unknown = runInThisContext(name);
  if (outer !== globalThis[name]) {
    Object.defineProperty(globalThis, name, { value: outer, writable: true, configurable: true, enumerable: false });
  }
}
