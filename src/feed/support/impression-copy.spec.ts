import { encodeImpressionsCopy, ImpressionRow, impressionsCopyChunks } from './impression-copy';

const row = (i: number): ImpressionRow => ({
  requestId: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
  userId: `u_${i % 7}`,
  videoId: `v_${i}`,
  position: i % 10,
  source: i % 3 ? 'ann' : 'i2i',
  score: i % 5 ? i / 100 : null,
  modelVersion: i % 4 ? 'm-1' : null,
  features: i % 6 ? Float32Array.from({ length: 29 }, (_, k) => k * i * 0.25) : null,
  servedAt: 1_800_000_000_000 + i,
});

async function collect(rows: ImpressionRow[]): Promise<Buffer[]> {
  const chunks: Buffer[] = [];
  for await (const chunk of impressionsCopyChunks(rows)) chunks.push(chunk);
  return chunks;
}

describe('impressionsCopyChunks', () => {
  it.each([0, 1, 99, 100, 101, 250])('gives the bytes of one encoding of %i rows, 100 rows a chunk', async (n) => {
    const rows = Array.from({ length: n }, (_, i) => row(i));
    const chunks = await collect(rows);
    expect(chunks).toHaveLength(Math.max(1, Math.ceil(n / 100)));
    expect(Buffer.concat(chunks).equals(encodeImpressionsCopy(rows))).toBe(true);
  });

  it('lets the event loop run between chunks', async () => {
    const rows = Array.from({ length: 300 }, (_, i) => row(i));
    const ranBefore: boolean[] = [];
    let ran = false;
    setImmediate(() => (ran = true));
    for await (const chunk of impressionsCopyChunks(rows)) {
      expect(chunk.length).toBeGreaterThan(0);
      ranBefore.push(ran);
    }
    expect(ranBefore).toEqual([false, true, true]);
  });
});
