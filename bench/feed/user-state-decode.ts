/**
 * The feed's read of a user's online state, in isolation: `--users` users' states built
 * with applyUserEvent from random engagement (`--events` each, on videos of 5,000 creators
 * in 12 categories, so each state holds up to 64 creator affinities, as the worker builds
 * them), stored with encodeUserState, then each decoded once with decodeUserState, every
 * user in turn, as a feed decodes a state it has not seen in that form before. Prints the
 * median µs per decode over several passes, each on fresh copies of the stored values;
 * the first pass is the one a live api sees for a state that changed since its last feed.
 *
 * `--checkout DIR` builds, stores and decodes with another built checkout's user-state
 * code (its dist/), so old and new code can be measured in turn on the same machine:
 *
 *   npm run build && node dist/bench/feed/user-state-decode.js [--users 10000] [--events 100] [--passes 5] [--checkout /path/to/old]
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type * as UserStateModule from '../../src/features/user-state';
import type { CatalogVideo } from '../../src/features/catalog-video';
import { EVENT_TYPES } from '../../src/events/event-types';
import { createRng } from '../../src/training/model/mlp';

const { values: args } = parseArgs({
  options: {
    users: { type: 'string', default: '10000' },
    events: { type: 'string', default: '100' },
    passes: { type: 'string', default: '5' },
    checkout: { type: 'string', default: join(__dirname, '..', '..', '..') },
  },
});
const USERS = Number(args.users);
const EVENTS = Number(args.events);
const PASSES = Number(args.passes);
const DIM = 32;
const CREATORS = 5000;
const CATEGORIES = 12;
const VIDEOS = 100_000;

const { applyUserEvent, decodeUserState, emptyUserState, encodeUserState } = require(join(args.checkout!, 'dist/src/features/user-state')) as typeof UserStateModule;

const random = createRng(7);
const videos: CatalogVideo[] = Array.from({ length: VIDEOS }, (_, i) => ({
  id: `v_${String(i).padStart(7, '0')}`,
  creatorId: `c_${String(Math.floor(random() * CREATORS)).padStart(6, '0')}`,
  title: `video ${i}`,
  category: `category_${i % CATEGORIES}`,
  tags: [],
  durationMs: 15_000 + (i % 45) * 1000,
  createdAt: 1_790_000_000_000,
  embedding: Float32Array.from({ length: DIM }, () => random() - 0.5),
  active: true,
}));

const types = EVENT_TYPES.filter((t) => t !== 'follow' && t !== 'unfollow');
// A checkout from before the binary form stores strings (JSON).
const stored: (string | Buffer)[] = [];
for (let u = 0; u < USERS; u++) {
  const state = emptyUserState(DIM);
  for (let e = 0; e < EVENTS; e++) {
    const video = videos[Math.floor(random() * VIDEOS)];
    const type = types[Math.floor(random() * types.length)];
    const event = { eventId: `${u}-${e}`, userId: `u_${u}`, videoId: video.id, type, watchMs: type === 'view' ? 8000 : null, occurredAt: 1_795_000_000_000 + e * 60_000 };
    applyUserEvent(state, event, video);
  }
  stored.push(encodeUserState(state));
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const perPass: number[] = [];
let sink = 0;
for (let pass = 0; pass < PASSES; pass++) {
  // Fresh copies, as a value read from Redis is: nothing V8 cached about the previous ones.
  const fresh = stored.map((s) => (typeof s === 'string' ? Buffer.from(s).toString() : Buffer.from(s)));
  const started = process.hrtime.bigint();
  for (const raw of fresh) sink += decodeUserState(raw, DIM).recent.length;
  perPass.push(Number(process.hrtime.bigint() - started) / 1000 / fresh.length);
}
const bytes = stored.reduce((sum, s) => sum + Buffer.byteLength(s), 0) / stored.length;
process.stdout.write(
  `[user-state-decode] ${args.checkout}: ${USERS} users, ${bytes.toFixed(0)} bytes per stored state; µs per decode by pass: ${perPass.map((x) => x.toFixed(1)).join(' ')}; ` +
    `first ${perPass[0].toFixed(1)}, median ${median(perPass).toFixed(1)} (checksum ${sink})\n`,
);
