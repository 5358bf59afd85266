/**
 * The reranker's score order in isolation (LazyScoreOrder over a request's candidates):
 * `--candidates` random scores, the best `--prefix` ordered first, read to `--read` places
 * (a page the caps fill from the prefix: 20; a page where they send the first pass through
 * every candidate: all of them). Prints the median µs per order over the rounds.
 *
 * `--checkout DIR` uses another built checkout's score-order code (its dist/), so old and
 * new code can be measured in turn on the same machine:
 *
 *   npm run build && node dist/bench/feed/score-order-bench.js [--candidates 500] [--prefix 80] [--rounds 5] [--checkout /path/to/old]
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type * as ScoreOrderModule from '../../src/feed/support/score-order';
import { createRng } from '../../src/training/model/mlp';

const { values: args } = parseArgs({
  options: {
    candidates: { type: 'string', default: '500' },
    prefix: { type: 'string', default: '80' },
    rounds: { type: 'string', default: '5' },
    checkout: { type: 'string', default: join(__dirname, '..', '..', '..') },
  },
});
const N = Number(args.candidates);
const PREFIX = Number(args.prefix);
const ROUNDS = Number(args.rounds);
const ORDERS = 4000;

const { LazyScoreOrder } = require(join(args.checkout!, 'dist/src/feed/support/score-order')) as typeof ScoreOrderModule;

const random = createRng(11);
const sets = Array.from({ length: ORDERS }, () => Float32Array.from({ length: N }, () => random()));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

let sink = 0;
for (const read of [20, N]) {
  const times: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const started = process.hrtime.bigint();
    for (const scores of sets) {
      const order = new LazyScoreOrder(scores, N, PREFIX);
      for (let k = 0; k < read; k++) sink += order.at(k);
    }
    times.push(Number(process.hrtime.bigint() - started) / 1e3 / ORDERS);
  }
  console.log(`${N} candidates, prefix ${PREFIX}, read to ${read}: ${median(times).toFixed(1)} µs per order (${times.map((t) => t.toFixed(1)).join(' ')})`);
}
if (sink < 0) console.log(sink);
