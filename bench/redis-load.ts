import { Cluster } from 'ioredis';
import { AnyRedis } from '../src/redis/redis-connection';

/** Waits for the client to be connected (a cluster client knows its masters only then). */
export async function connected(redis: AnyRedis): Promise<void> {
  await redis.ping();
}

/** The nodes that serve commands: every master of a cluster, or the one server (call `connected` first). */
export function masters(redis: AnyRedis): { name: string; node: AnyRedis }[] {
  if (redis instanceof Cluster) return redis.nodes('master').map((node) => ({ name: `${node.options.host}:${node.options.port}`, node }));
  return [{ name: 'single', node: redis }];
}

/** Calls per command on one server so far (INFO commandstats). */
async function commandCalls(node: AnyRedis): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const m of (await node.info('commandstats')).matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) out[m[1]] = Number(m[2]);
  return out;
}

export interface MasterLoad {
  master: string;
  calls: number;
  /** Share of all masters' calls, 0-1. */
  share: number;
  /** The most called commands and their calls. */
  top: Record<string, number>;
}

/**
 * Per-master command counts between `start()` and the function it returns: the load each
 * master took (a master unreachable at either end counts what it answered, or nothing).
 */
export async function trackMasterLoad(redis: AnyRedis): Promise<() => Promise<MasterLoad[]>> {
  await connected(redis);
  const read = async () =>
    Object.fromEntries(await Promise.all(masters(redis).map(async ({ name, node }) => [name, await commandCalls(node).catch(() => ({}))] as const)));
  const before = await read();
  return async () => {
    const after = await read();
    const rows = Object.entries(after).map(([master, calls]) => {
      const delta = Object.entries(calls)
        .map(([cmd, n]) => [cmd, n - ((before[master] as Record<string, number> | undefined)?.[cmd] ?? 0)] as const)
        .filter(([, n]) => n > 0)
        .sort((a, b) => b[1] - a[1]);
      return { master, calls: delta.reduce((s, [, n]) => s + n, 0), top: Object.fromEntries(delta.slice(0, 5)) };
    });
    const total = rows.reduce((s, r) => s + r.calls, 0) || 1;
    return rows.map((r) => ({ ...r, share: +(r.calls / total).toFixed(3) }));
  };
}

/** Redis server CPU seconds so far, summed over the masters (includes anything else using them). */
export async function redisCpuSeconds(redis: AnyRedis): Promise<number> {
  await connected(redis).catch(() => undefined);
  let total = 0;
  for (const { node } of masters(redis)) {
    const info = await node.info('cpu').catch(() => '');
    const num = (k: string) => Number(new RegExp(`${k}:([0-9.]+)`).exec(info)?.[1] ?? 0);
    total += num('used_cpu_user') + num('used_cpu_sys');
  }
  return total;
}

/** Deletes the keys matching `patterns` on every master. */
export async function unlinkMatching(redis: AnyRedis, patterns: string[]): Promise<void> {
  await connected(redis);
  for (const { node } of masters(redis)) {
    for (const match of patterns) {
      let cursor = '0';
      do {
        const [next, keys] = await node.scan(cursor, 'MATCH', match, 'COUNT', 5000);
        cursor = next;
        // One key at a time on a cluster: keys of one scan page are in many slots.
        if (redis instanceof Cluster) for (const k of keys) await node.unlink(k);
        else if (keys.length) await node.unlink(...keys);
      } while (cursor !== '0');
    }
  }
}
