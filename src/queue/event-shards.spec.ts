import { parseShardList, shardOfUser, shardTag, slotOfTag } from './event-shards';

describe('event queue shards', () => {
  it('computes the slot Redis Cluster gives a key', () => {
    // Known values of CLUSTER KEYSLOT.
    expect(slotOfTag('foo')).toBe(12182);
    expect(slotOfTag('123456789')).toBe(12739);
  });

  it('puts a user always on the same shard, and users over all shards evenly', () => {
    expect(shardOfUser('user-42', 12)).toBe(shardOfUser('user-42', 12));
    expect(shardOfUser('user-42', 1)).toBe(0);
    const counts = new Array(12).fill(0);
    for (let i = 0; i < 12_000; i++) counts[shardOfUser(`user-${i}`, 12)] += 1;
    expect(Math.min(...counts)).toBeGreaterThan(800);
    expect(Math.max(...counts)).toBeLessThan(1200);
  });

  it('gives each shard a distinct tag in its own part of the slot range (so masters get equal shares)', () => {
    const tags = Array.from({ length: 12 }, (_, i) => shardTag('rs:bull:events', i, 12));
    expect(new Set(tags).size).toBe(12);
    tags.forEach((tag, i) => {
      expect(Math.floor(slotOfTag(tag) / (16384 / 12))).toBe(i);
      expect(tag.startsWith(`rs:bull:events:${i}.`)).toBe(true);
    });
    // Three masters of a fresh cluster own 0-5460, 5461-10922, 10923-16383: four shards each.
    const perMaster = [0, 0, 0];
    for (const tag of tags) perMaster[slotOfTag(tag) <= 5460 ? 0 : slotOfTag(tag) <= 10922 ? 1 : 2] += 1;
    expect(perMaster).toEqual([4, 4, 4]);
  });

  it('reads the shards a worker consumes', () => {
    expect(parseShardList('', 4)).toEqual([0, 1, 2, 3]);
    expect(parseShardList('0-2,7, 5', 8)).toEqual([0, 1, 2, 5, 7]);
    expect(() => parseShardList('3-9', 8)).toThrow(/outside 0-7/);
    expect(() => parseShardList('x', 8)).toThrow(/not a shard number/);
  });
});
