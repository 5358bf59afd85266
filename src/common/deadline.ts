/**
 * Settles like `work`, or rejects with `late()` once `ms` have passed. When the timer
 * fires, the verdict waits for one setImmediate: Node runs timers before I/O in each
 * loop turn, so on a busy loop an answer that arrived in time but was not read yet
 * would otherwise lose to its own deadline.
 */
export function withDeadline<T>(work: Promise<T>, ms: number, late: () => Error): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    const timer = setTimeout(
      () =>
        setImmediate(() => {
          if (settled) return;
          settled = true;
          work.catch(() => undefined);
          reject(late());
        }),
      ms,
    );
    work.then(
      (value) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(value);
      },
      (err: unknown) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        reject(err);
      },
    );
  });
}
