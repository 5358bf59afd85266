import { randomBytes } from 'node:crypto';

// Jest gives each test file fresh modules, so a counter alone would repeat ids across files.
const run = randomBytes(3).toString('hex');
let counter = 0;

/** A short id unique within the test run, e.g. `u_3fa9c1_7`. */
export function uniqueId(prefix: string): string {
  counter += 1;
  return `${prefix}_${run}_${counter}`;
}
