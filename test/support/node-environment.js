'use strict';

const { TestEnvironment } = require('jest-environment-node');

/**
 * Jest runs each test file in its own vm realm, but native addons such as
 * onnxruntime-node create typed arrays with the main realm's constructors, so
 * `instanceof Float32Array` checks inside onnxruntime-common fail in tests
 * (microsoft/onnxruntime#16622). Jest already shares Buffer, ArrayBuffer and
 * Uint8Array with the main realm; this environment shares the other typed arrays too.
 */
const TYPED_ARRAYS = [
  'Int8Array',
  'Uint8ClampedArray',
  'Int16Array',
  'Uint16Array',
  'Int32Array',
  'Uint32Array',
  'Float32Array',
  'Float64Array',
  'BigInt64Array',
  'BigUint64Array',
];

class ReelrankNodeEnvironment extends TestEnvironment {
  constructor(config, context) {
    super(config, context);
    for (const name of TYPED_ARRAYS) {
      this.global[name] = globalThis[name];
    }
  }
}

module.exports = ReelrankNodeEnvironment;
