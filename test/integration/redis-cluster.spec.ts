import { BullModule, InjectQueue, Processor, WorkerHost } from '@nestjs/bullmq';
import { Injectable, Module } from '@nestjs/common';
import { Test, TestingModule } from '@nestjs/testing';
import { Job, Queue } from 'bullmq';
import { Cluster, Redis } from 'ioredis';
import { ConfigModule } from '../../src/config/config.module';
import { loadConfig } from '../../src/config/app-config';
import { MetricsModule } from '../../src/metrics/metrics.module';
import { BULL_CONNECTION } from '../../src/queue/bull-connection.module';
import { QueueModule } from '../../src/queue/queue.module';
import { PubSubService } from '../../src/redis/pubsub.service';
import { AnyRedis, createRedisClient } from '../../src/redis/redis-connection';
import { REDIS } from '../../src/redis/redis.constants';
import { RedisKeys } from '../../src/redis/redis-keys';
import { RedisModule } from '../../src/redis/redis.module';
import { LocalRedisCluster, startRedisCluster } from '../support/redis-cluster';

const CHECK_QUEUE = 'cluster-check';

/** The hash tag Redis Cluster hashes a key by: the first non-empty {...}, or null. */
function hashTag(key: string): string | null {
  const open = key.indexOf('{');
  if (open < 0) return null;
  const close = key.indexOf('}', open + 1);
  return close > open + 1 ? key.slice(open + 1, close) : null;
}

/** Every key RedisKeys can produce (getters and methods, called with sample ids); pub/sub channels excluded. */
function allKeyKinds(keys: RedisKeys, id: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const name of Object.getOwnPropertyNames(RedisKeys.prototype)) {
    if (name === 'constructor' || name === 'bullPrefix' || name === 'eventQueuePrefix' || name.endsWith('Channel')) continue;
    const descriptor = Object.getOwnPropertyDescriptor(RedisKeys.prototype, name)!;
    const value = descriptor.get
      ? descriptor.get.call(keys)
      : (descriptor.value as (...args: string[]) => string).call(keys, id, 'session-1');
    out.set(name, value);
  }
  return out;
}

const TOUCH_ALL = `for i, k in ipairs(KEYS) do redis.call('SET', k, ARGV[1]) end return #KEYS`;

@Injectable()
@Processor(CHECK_QUEUE, { concurrency: 16 })
class CheckProcessor extends WorkerHost {
  readonly seen: Job[] = [];
  readonly attempts = new Map<string, number>();

  async process(job: Job): Promise<string> {
    const n = (this.attempts.get(job.id!) ?? 0) + 1;
    this.attempts.set(job.id!, n);
    if (job.data.failFirst && n === 1) throw new Error('transient');
    this.seen.push(job);
    return 'ok';
  }
}

@Injectable()
class CheckProducer {
  constructor(@InjectQueue(CHECK_QUEUE) readonly queue: Queue) {}
}

@Module({
  imports: [ConfigModule, RedisModule, MetricsModule, QueueModule, BullModule.registerQueue({ name: CHECK_QUEUE })],
  providers: [CheckProcessor, CheckProducer],
})
class ClusterCheckModule {}

async function waitFor<T>(probe: () => T | Promise<T>, ok: (v: T) => boolean, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (ok(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out; last value: ${JSON.stringify(value)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('Redis Cluster', () => {
  let cluster: LocalRedisCluster;
  let client: Cluster;
  const savedNodes = process.env.REDIS_CLUSTER_NODES;
  const prefix = process.env.REDIS_PREFIX!;
  const keys = new RedisKeys(prefix);

  beforeAll(async () => {
    cluster = await startRedisCluster();
    process.env.REDIS_CLUSTER_NODES = cluster.nodes;
    client = createRedisClient(loadConfig()) as Cluster;
  }, 60_000);

  afterAll(async () => {
    if (savedNodes === undefined) delete process.env.REDIS_CLUSTER_NODES;
    else process.env.REDIS_CLUSTER_NODES = savedNodes;
    await client?.quit();
    await cluster?.stop();
  });

  it('is a cluster client whose masters split the slots', async () => {
    expect(client).toBeInstanceOf(Cluster);
    expect(await client.ping()).toBe('PONG');
    const slots = await client.cluster('SLOTS');
    expect(new Set(slots.map((s) => s[2][1])).size).toBe(3);
  });

  describe(RedisKeys.name, () => {
    it('gives every key a hash tag, and the keys of one user or one video the same tag', () => {
      const kinds = allKeyKinds(keys, '12345');
      expect(kinds.size).toBeGreaterThan(5);
      for (const [name, key] of kinds) {
        expect({ name, tag: hashTag(key) }).toEqual({ name, tag: expect.any(String) });
      }
      const userTags = [...kinds].filter(([n]) => n.startsWith('user')).map(([, k]) => hashTag(k));
      const videoTags = [...kinds].filter(([n]) => n.startsWith('video')).map(([, k]) => hashTag(k));
      expect(new Set(userTags).size).toBe(1);
      expect(new Set(videoTags).size).toBe(1);
      expect(hashTag(keys.bullPrefix)).toBe(keys.bullPrefix.slice(1, -1));
      expect(keys.eventQueuePrefix(0, 1)).toBe(keys.bullPrefix);
    });

    it('puts the event queue shards on every master, as many on each', async () => {
      const ranges = await client.cluster('SLOTS');
      const perMaster = new Map<string, number>();
      for (let shard = 0; shard < 12; shard++) {
        const slot = Number(await client.cluster('KEYSLOT', `${keys.eventQueuePrefix(shard, 12)}:events:wait`));
        const owner = String(ranges.find(([from, to]) => slot >= from && slot <= to)![2][1]);
        perMaster.set(owner, (perMaster.get(owner) ?? 0) + 1);
      }
      expect([...perMaster.values()]).toEqual([4, 4, 4]);
    });

    it('lets one script touch all keys of a user (and of a video) atomically on the cluster', async () => {
      const kinds = [...allKeyKinds(keys, 'user-77').entries()];
      const userKeys = kinds.filter(([n]) => n.startsWith('user')).map(([, k]) => k);
      const videoKeys = [...allKeyKinds(keys, 'video-9').entries()].filter(([n]) => n.startsWith('video')).map(([, k]) => k);
      expect(await client.eval(TOUCH_ALL, userKeys.length, ...userKeys, 'x')).toBe(userKeys.length);
      expect(await client.eval(TOUCH_ALL, videoKeys.length, ...videoKeys, 'x')).toBe(videoKeys.length);
      const txn = await client.multi().get(userKeys[0]).get(userKeys[userKeys.length - 1]).exec();
      expect(txn).toEqual([
        [null, 'x'],
        [null, 'x'],
      ]);
    });

    it('rejects a script whose keys span slots (the check above can fail)', async () => {
      const ids = Array.from({ length: 50 }, (_, i) => `u${i}`);
      const slots = await Promise.all(ids.map((id) => client.cluster('KEYSLOT', keys.userFeatures(id))));
      const other = ids[slots.findIndex((s) => s !== slots[0])];
      await expect(client.eval(TOUCH_ALL, 2, keys.userFeatures(ids[0]), keys.userFeatures(other), 'x')).rejects.toThrow(
        /CROSSSLOT/,
      );
    });

    it('spreads users and videos over all masters', async () => {
      const nodesFor = async (keyOf: (i: number) => string) => {
        const nodes = new Set<string>();
        for (let i = 0; i < 60; i++) {
          const slot = Number(await client.cluster('KEYSLOT', keyOf(i)));
          const range = (await client.cluster('SLOTS')).find(([from, to]) => slot >= from && slot <= to)!;
          nodes.add(String(range[2][1]));
        }
        return nodes.size;
      };
      expect(await nodesFor((i) => keys.userFeatures(String(i)))).toBe(3);
      expect(await nodesFor((i) => keys.videoStats(String(i)))).toBe(3);
    });
  });

  describe('api/worker wiring on the cluster', () => {
    let moduleRef: TestingModule;

    beforeAll(async () => {
      moduleRef = await Test.createTestingModule({ imports: [ClusterCheckModule] }).compile();
      moduleRef.enableShutdownHooks();
      await moduleRef.init();
    }, 30_000);

    afterAll(async () => {
      await moduleRef?.close();
    });

    it('gives the main client and BullMQ a Cluster connection', () => {
      expect(moduleRef.get<AnyRedis>(REDIS)).toBeInstanceOf(Cluster);
      expect(moduleRef.get(BULL_CONNECTION)).toBeInstanceOf(Cluster);
    });

    it('runs BullMQ bulk, delayed, retried and scheduled jobs with every queue key in one slot', async () => {
      const { queue } = moduleRef.get(CheckProducer);
      const processor = moduleRef.get(CheckProcessor);
      await queue.addBulk(Array.from({ length: 500 }, (_, i) => ({ name: 'bulk', data: { i } })));
      await queue.add('delayed', { delayed: true }, { delay: 300 });
      await queue.add('retried', { failFirst: true }, { attempts: 3, backoff: { type: 'fixed', delay: 100 } });
      await queue.upsertJobScheduler('every-200ms', { every: 200 }, { name: 'scheduled', data: {} });

      await waitFor(
        () => processor.seen,
        (seen) =>
          seen.filter((j) => j.name === 'bulk').length === 500 &&
          seen.some((j) => j.name === 'delayed') &&
          seen.some((j) => j.name === 'retried') &&
          seen.filter((j) => j.name === 'scheduled').length >= 2,
        15_000,
      );
      await queue.removeJobScheduler('every-200ms');
      const retried = processor.seen.find((j) => j.name === 'retried')!;
      expect(processor.attempts.get(retried.id!)).toBe(2);
      expect(new Set(processor.seen.filter((j) => j.name === 'bulk').map((j) => j.data.i)).size).toBe(500);

      const queueKeys: string[] = [];
      for (const node of client.nodes('master')) {
        let cursor = '0';
        do {
          const [next, found] = await node.scan(cursor, 'MATCH', `${keys.bullPrefix}:*`, 'COUNT', 1000);
          cursor = next;
          queueKeys.push(...found);
        } while (cursor !== '0');
      }
      expect(queueKeys.length).toBeGreaterThan(3);
      const slots = new Set(await Promise.all(queueKeys.map((k) => client.cluster('KEYSLOT', k))));
      expect(slots.size).toBe(1);
    }, 30_000);

    it('fails on the cluster without the hash-tag prefix (so the prefix is what makes it work)', async () => {
      const untagged = new Queue('untagged', { connection: moduleRef.get(BULL_CONNECTION), prefix: `${prefix}-plain` });
      try {
        await expect(untagged.add('x', {})).rejects.toThrow(/CROSSSLOT/);
      } finally {
        await untagged.close();
      }
    });

    it('delivers pub/sub messages to subscribers in every process', async () => {
      const other = await Test.createTestingModule({ imports: [ConfigModule, RedisModule] }).compile();
      await other.init();
      try {
        const received: string[][] = [[], []];
        await moduleRef.get(PubSubService).subscribe(keys.modelChannel, (m) => void received[0].push(m));
        await other.get(PubSubService).subscribe(keys.modelChannel, (m) => void received[1].push(m));
        const publisher = new Redis({ port: cluster.ports[2], host: '127.0.0.1' });
        try {
          await publisher.publish(keys.modelChannel, 'model-42');
        } finally {
          publisher.disconnect();
        }
        await waitFor(
          () => received,
          (r) => r[0].length === 1 && r[1].length === 1,
        );
        expect(received).toEqual([['model-42'], ['model-42']]);
      } finally {
        await other.close();
      }
    });
  });
});
