/** Hash slots of a Redis Cluster. */
const SLOTS = 16384;

/** CRC16/XMODEM, the hash Redis Cluster maps a key's tag to a slot with. */
function crc16(data: Buffer): number {
  let crc = 0;
  for (const byte of data) {
    crc ^= byte << 8;
    for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc;
}

/** The cluster slot of a hash tag (the text between the braces). */
export function slotOfTag(tag: string): number {
  return crc16(Buffer.from(tag, 'utf8')) % SLOTS;
}

/**
 * The shard of a user's events: FNV-1a of the id, modulo the shard count. Stable across
 * processes and releases (per-user order depends on it); changing the count moves users.
 */
export function shardOfUser(userId: string, shards: number): number {
  if (shards <= 1) return 0;
  let hash = 0x811c9dc5;
  for (const byte of Buffer.from(userId, 'utf8')) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash % shards;
}

/**
 * The hash tag of shard `shard` of `shards`: `<base>:<shard>.<k>` with the smallest k whose
 * slot falls in the middle half of the shard's 1/shards of the slot range. `redis-cli
 * --cluster create` gives each master an equal contiguous range, so with a shard count that
 * is a multiple of the masters each master holds as many shards (plain names land where
 * CRC16 puts them: 12 names over 3 masters often split 6/3/3).
 */
export function shardTag(base: string, shard: number, shards: number): string {
  const width = SLOTS / shards;
  const from = shard * width + width / 4;
  const to = (shard + 1) * width - width / 4;
  for (let k = 0; ; k++) {
    const tag = `${base}:${shard}.${k}`;
    const slot = slotOfTag(tag);
    if (slot >= from && slot < to) return tag;
  }
}

/**
 * The shards a worker consumes: every shard for an empty spec, else a list of shard numbers
 * and ranges ("0-3,6"). Throws naming the problem for a spec outside 0..shards-1.
 */
export function parseShardList(spec: string, shards: number): number[] {
  if (spec.trim() === '') return Array.from({ length: shards }, (_, i) => i);
  const out = new Set<number>();
  for (const part of spec.split(',')) {
    const m = /^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$/.exec(part);
    if (!m) throw new Error(`WORKER_SHARDS: "${part}" is not a shard number or range`);
    const from = Number(m[1]);
    const to = m[2] === undefined ? from : Number(m[2]);
    if (to < from || to >= shards) throw new Error(`WORKER_SHARDS: "${part.trim()}" is outside 0-${shards - 1} (EVENT_QUEUE_SHARDS=${shards})`);
    for (let s = from; s <= to; s++) out.add(s);
  }
  return [...out].sort((a, b) => a - b);
}
