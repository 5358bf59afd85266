export { VALIDATION_OPTIONS } from './validation-options';
export { IsTimestamp, instantProblem, parseTimestamp, setTimestampWindow, timestampProblem, timestampWindow } from './timestamp';
export type { TimestampWindow } from './timestamp';
export { IsFloat32Array, isFloat32 } from './float32';
export { asciiId, FastPathValidationPipe, FastValidation, fastAccepts } from './fast-validation';
