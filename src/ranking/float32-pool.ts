/**
 * Reusable Float32Array buffers of at least `minLength` values, so a feed request
 * does not allocate its feature matrix. A buffer is held from acquire until release
 * (onnxruntime reads its input later, on a setImmediate), so concurrent requests
 * never share one.
 */
export class Float32Pool {
  private readonly free: Float32Array[] = [];

  constructor(
    private readonly minLength: number,
    private readonly maxPooled = 32,
  ) {}

  acquire(length: number): Float32Array {
    if (length > this.minLength) return new Float32Array(length);
    return this.free.pop() ?? new Float32Array(this.minLength);
  }

  release(buffer: Float32Array): void {
    if (buffer.length === this.minLength && this.free.length < this.maxPooled) this.free.push(buffer);
  }
}
