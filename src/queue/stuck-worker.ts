/** How long a worker may take no job from a shard that has jobs waiting before it is replaced. */
export const STUCK_AFTER_MS = 30_000;

export interface WorkerActivity {
  /** Jobs of this worker running now. */
  running: number;
  /** When it last started or finished a job, or was created (epoch ms). */
  lastActivityAt: number;
}

/**
 * A worker is stuck when its shard has jobs waiting but it has run none for STUCK_AFTER_MS:
 * its blocking read was left on the connection to a master that died (seen on a Redis
 * Cluster failover), and it would wait for that node forever.
 */
export function isStuck(activity: WorkerActivity, waiting: number, now: number): boolean {
  return waiting > 0 && activity.running === 0 && now - activity.lastActivityAt >= STUCK_AFTER_MS;
}
