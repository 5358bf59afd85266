import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { once } from 'node:events';

const USAGE = `usage: node dist/bench/import/generate-history.js [--out DIR] [--events N] [--users N] [--videos N] [--format csv|jsonl]
Writes DIR/videos.jsonl and DIR/events.csv (or .jsonl): a synthetic catalog and history in the
import schema, popularity skewed (Zipf-like), times spread over 90 days, no event ids.`;

const TYPES = ['view', 'view', 'view', 'complete', 'like', 'skip', 'share'];

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      out: { type: 'string', default: 'bench-data/import' },
      events: { type: 'string', default: '1000000' },
      users: { type: 'string', default: '50000' },
      videos: { type: 'string', default: '20000' },
      format: { type: 'string', default: 'csv' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) return void process.stdout.write(`${USAGE}\n`);
  const [events, users, videos] = [values.events, values.users, values.videos].map(Number);
  await mkdir(values.out, { recursive: true });
  let seed = 12345;
  const rand = () => ((seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  const zipf = (n: number) => Math.min(n - 1, Math.floor(n * rand() ** 2.5));

  const catalog = createWriteStream(join(values.out, 'videos.jsonl'));
  const start = Date.parse('2024-01-01T00:00:00Z');
  for (let v = 0; v < videos; v++) {
    const line = { id: `v${v}`, creatorId: `c${v % 3000}`, category: `cat${v % 40}`, tags: [`t${v % 97}`], durationMs: 5000 + (v % 60) * 1000, createdAt: new Date(start - (v % 90) * 86_400_000).toISOString() };
    if (!catalog.write(`${JSON.stringify(line)}\n`)) await once(catalog, 'drain');
  }
  catalog.end();

  const file = join(values.out, `events.${values.format}`);
  const history = createWriteStream(file);
  if (values.format === 'csv') history.write('userId,videoId,type,occurredAt,watchMs\n');
  for (let i = 0; i < events; i++) {
    const type = TYPES[Math.floor(rand() * TYPES.length)];
    const at = new Date(start + Math.floor((i / events) * 90 * 86_400_000)).toISOString();
    const user = `u${zipf(users)}`;
    const video = `v${zipf(videos)}`;
    const watch = type === 'view' || type === 'skip' ? String(Math.floor(rand() * 30_000)) : '';
    const line =
      values.format === 'csv'
        ? `${user},${video},${type},${at},${watch}\n`
        : `${JSON.stringify({ userId: user, videoId: video, type, occurredAt: at, ...(watch ? { watchMs: Number(watch) } : {}) })}\n`;
    if (!history.write(line)) await once(history, 'drain');
  }
  history.end();
  await Promise.all([once(catalog, 'close'), once(history, 'close')]);
  process.stdout.write(`wrote ${videos} videos and ${events} events to ${values.out}\n`);
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack}\n`);
  process.exit(1);
});
