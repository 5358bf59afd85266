/**
 * Lets long CPU-bound loops (dataset walk, ALS, evaluation) share the process with
 * queue workers: `if (y.due()) await y.pause()` hands control back to the event loop
 * once `sliceMs` of work has run. `due()` reads the clock only every 256 calls.
 */
export class EventLoopYielder {
  private sliceStart = Date.now();
  private calls = 0;

  constructor(private readonly sliceMs = 20) {}

  due(): boolean {
    if ((++this.calls & 255) !== 0) return false;
    return Date.now() - this.sliceStart >= this.sliceMs;
  }

  /** For loops whose every iteration is heavy (~0.1 ms or more): checks the clock on each call. */
  async pauseIfDue(): Promise<void> {
    if (Date.now() - this.sliceStart >= this.sliceMs) await this.pause();
  }

  async pause(): Promise<void> {
    await new Promise<void>((resolve) => setImmediate(resolve));
    this.sliceStart = Date.now();
  }
}
