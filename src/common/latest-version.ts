import { Logger } from '@nestjs/common';

/**
 * What one training run stored (item neighbours, a sequence model), as an api serves it:
 * loaded one version at a time, the named one (default: the newest) unless it already
 * serves; the previous one keeps serving until the new one is open, and when loading fails.
 */
export class LatestVersion<S extends { version: string }, T> {
  private current: { version: string; value: T } | null = null;
  private loading: Promise<void> = Promise.resolve();

  constructor(
    private readonly what: string,
    private readonly logger: Logger,
    private readonly read: (version?: string) => Promise<S | null>,
    private readonly open: (stored: S) => Promise<T>,
    /** What the loaded message adds about a version, e.g. its size. */
    private readonly describe: (stored: S, value: T) => string,
    /** Called with the value a newer version replaced (to release what it holds). */
    private readonly replaced: (old: T) => Promise<void> = async () => undefined,
  ) {}

  get value(): T | null {
    return this.current?.value ?? null;
  }

  get version(): string | null {
    return this.current?.version ?? null;
  }

  load(version?: string): Promise<void> {
    const run = async () => {
      if (version && version === this.current?.version) return;
      const stored = await this.read(version);
      if (!stored || stored.version === this.current?.version) return;
      const previous = this.current;
      const value = await this.open(stored);
      this.current = { version: stored.version, value };
      if (previous) await this.replaced(previous.value);
      this.logger.log(`${this.what} ${stored.version} loaded: ${this.describe(stored, value)}`);
    };
    this.loading = this.loading.then(run).catch((err: Error) => this.logger.warn(`${this.what} not loaded, keeping the previous one: ${err.message}`));
    return this.loading;
  }

  /** Waits for the loads in progress. */
  settled(): Promise<void> {
    return this.loading;
  }
}
