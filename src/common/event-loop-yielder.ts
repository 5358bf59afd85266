/**
 * Lets long CPU-bound loops (dataset walk, ALS, evaluation, the drift check) share the
 * process with queue workers: `if (y.due()) await y.pause()` hands control back to the
 * event loop once `sliceMs` of work has run. `due()` reads the clock only every 256 calls.
 * With `cpuShare` below 1 a pause also waits, so that the loop uses about that share of a
 * core: a periodic job that would otherwise take a core for a second at once (on a small
 * machine, from the api beside it) is spread over a few.
 */
export class EventLoopYielder {
  private sliceStart = Date.now();
  private calls = 0;

  constructor(
    private readonly sliceMs = 20,
    private readonly cpuShare = 1,
  ) {}

  due(): boolean {
    if ((++this.calls & 255) !== 0) return false;
    return Date.now() - this.sliceStart >= this.sliceMs;
  }

  /** For loops whose every iteration is heavy (~0.1 ms or more): checks the clock on each call. */
  async pauseIfDue(): Promise<void> {
    if (Date.now() - this.sliceStart >= this.sliceMs) await this.pause();
  }

  async pause(): Promise<void> {
    const ran = Date.now() - this.sliceStart;
    if (this.cpuShare < 1) await new Promise<void>((resolve) => setTimeout(resolve, Math.ceil(ran * (1 / this.cpuShare - 1))));
    else await new Promise<void>((resolve) => setImmediate(resolve));
    this.sliceStart = Date.now();
  }
}
