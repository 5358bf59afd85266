import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { runTs } from '../../support/run-ts';
import { testDatabaseUrl } from '../../support/test-env';

/**
 * Six users watched a few of v1..v5 and then `hit`, their held-out video; four fans watched
 * only `hit` (one video each: not evaluated, all in training). So `hit` is the most popular
 * training video but co-occurs with nothing: popularity finds it for everyone, item-kNN for
 * no one.
 */
function fixture(): { videos: string; events: string } {
  const dir = mkdtempSync(join(tmpdir(), 'evaluate-'));
  const ids = ['v1', 'v2', 'v3', 'v4', 'v5', 'hit'];
  const videos = join(dir, 'videos.jsonl');
  writeFileSync(videos, ids.map((id, i) => JSON.stringify({ id, creatorId: `c${i}`, category: 'drama', durationMs: 60_000, createdAt: '2020-01-01T00:00:00Z' })).join('\n'));
  const rows = ['userId,videoId,type,occurredAt'];
  let t = Date.parse('2020-02-01T00:00:00Z');
  const at = () => new Date((t += 60_000)).toISOString();
  for (let f = 0; f < 4; f++) rows.push(`fan${f},hit,like,${at()}`);
  for (let u = 0; u < 6; u++) {
    rows.push(`u${u},v${(u % 5) + 1},view,${at()}`, `u${u},v${((u + 1) % 5) + 1},view,${at()}`);
  }
  for (let u = 0; u < 6; u++) rows.push(`u${u},hit,view,${at()}`);
  const events = join(dir, 'events.csv');
  writeFileSync(events, `${rows.join('\n')}\n`);
  return { videos, events };
}

async function databases(prefix: string): Promise<string[]> {
  const url = new URL(testDatabaseUrl());
  url.pathname = '/postgres';
  const client = new Client({ connectionString: url.toString() });
  await client.connect();
  try {
    const { rows } = await client.query(`SELECT datname FROM pg_database WHERE datname LIKE $1`, [`${prefix}%`]);
    return rows.map((r) => r.datname);
  } finally {
    await client.end();
  }
}

describe('npm run evaluate', () => {
  it('scores the feed and the baselines on a split whose hits are known, in a database it drops', async () => {
    const { videos, events } = fixture();
    const out = join(mkdtempSync(join(tmpdir(), 'evaluate-out-')), 'result.json');
    const run = await runTs('scripts/evaluate.ts', ['--videos', videos, '--events', events, '--no-train', '--out', out]);
    if (run.code !== 0) throw new Error(`evaluate exited ${run.code}: ${run.stderr}`);
    expect(run.stdout).toMatch(/6 users with a held-out video, 6 evaluated/);
    const result = JSON.parse(readFileSync(out, 'utf8'));
    const byName = Object.fromEntries(result.results.map((r: { name: string }) => [r.name, r]));
    expect(byName['popularity']).toMatchObject({ users: 6, hitRate: 1, ndcg: 1 });
    expect(byName['item-knn']).toMatchObject({ users: 6, hitRate: 0 });
    expect(byName['EASE'].users).toBe(6);
    // Six videos in all: the first page holds every one the user has not watched, `hit` included.
    expect(byName['reelrank feed']).toMatchObject({ users: 6, hitRate: 1 });
    expect(byName['reelrank feed'].p50Ms).toBeGreaterThan(0);
    const name = /evaluation database (\S+),/.exec(run.stdout)![1];
    expect(run.stderr).not.toMatch(/could not/);
    expect(await databases(name)).toEqual([]);
  }, 300_000);
});
