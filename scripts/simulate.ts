import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { TokenVerifierService } from '../src/auth/token-verifier.service';
import { loadConfig } from '../src/config/app-config';
import { exitOnConfigError } from '../src/config/exit-on-config-error';
import { ApiClient } from './simulator/api-client';
import { renderChart, RoundResult } from './simulator/chart';
import { parseSimulatorArgs, SIMULATOR_USAGE, SimulatorOptions } from './simulator/simulator-options';
import { SimulationResult, Simulator } from './simulator/simulator';

const TOKEN_TTL_SECONDS = 12 * 3600;
const READY_WAIT_MS = 30_000;

function csv(rounds: RoundResult[]): string {
  const arms = ['feed', 'popularity', 'random', 'ideal'] as const;
  const header = ['round', 'model', ...arms.flatMap((a) => [`${a}_engagement`, `${a}_hr10`]), 'feed_p50_ms', 'feed_p95_ms', 'feed_errors'];
  const rows = rounds.map((r) =>
    [
      r.round,
      r.model ?? '',
      ...arms.flatMap((a) => [r[a].engagementRate, r[a].hitRateAt10]),
      r.feed.latencyP50Ms ?? '',
      r.feed.latencyP95Ms ?? '',
      r.feed.errors,
    ].join(','),
  );
  return [header.join(','), ...rows].join('\n') + '\n';
}

function mean(values: number[]): number {
  return values.length === 0 ? 0 : values.reduce((a, b) => a + b, 0) / values.length;
}

function summary(result: SimulationResult): string {
  const n = Math.max(1, Math.min(3, Math.floor(result.rounds.length / 3)));
  const first = result.rounds.slice(0, n);
  const last = result.rounds.slice(-n);
  const line = (label: string, pick: (r: RoundResult) => number) =>
    `  ${label.padEnd(26)} first ${n} rounds ${(mean(first.map(pick)) * 100).toFixed(1)}%  ->  last ${n} rounds ${(mean(last.map(pick)) * 100).toFixed(1)}%`;
  return [
    'summary:',
    line('feed engagement', (r) => r.feed.engagementRate),
    line('feed HR@10', (r) => r.feed.hitRateAt10),
    line('popularity engagement', (r) => r.popularity.engagementRate),
    line('popularity HR@10', (r) => r.popularity.hitRateAt10),
    line('random engagement', (r) => r.random.engagementRate),
    line('random HR@10', (r) => r.random.hitRateAt10),
    line('ideal HR@10 (the ceiling)', (r) => r.ideal.hitRateAt10),
  ].join('\n');
}

async function main(): Promise<void> {
  if (process.argv.includes('--help') || process.argv.includes('-h')) {
    process.stdout.write(`${SIMULATOR_USAGE}\n`);
    return;
  }
  const config = exitOnConfigError(loadConfig);
  let options: SimulatorOptions;
  try {
    options = parseSimulatorArgs(process.argv.slice(2), config);
  } catch (err) {
    process.stderr.write(`simulate: ${(err as Error).message}\n${SIMULATOR_USAGE}\n`);
    process.exit(64);
  }
  const log = (line: string) => process.stdout.write(`${line}\n`);
  const client = new ApiClient(options.url, config.ADMIN_API_KEY);
  const readyBy = Date.now() + READY_WAIT_MS;
  while (!(await client.ready())) {
    if (Date.now() > readyBy) {
      process.stderr.write(`simulate: the api at ${options.url} is not ready (start it with npm run demo, or pass --url)\n`);
      process.exit(69);
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
  const tokens = new TokenVerifierService(config);
  const simulator = new Simulator(options, client, log);
  const users = await simulator.users((id) => tokens.issue(id, TOKEN_TTL_SECONDS));
  log(
    `simulating ${users.length} users x ${options.rounds} rounds of ${options.pageSize} videos against ${options.url}` +
      (options.trainEvery > 0 ? `, retraining every ${options.trainEvery} rounds` : ', no retraining'),
  );
  const started = Date.now();
  const result = await simulator.run(users);
  const outDir = resolve(options.outDir, new Date().toISOString().replace(/[:.]/g, '-'));
  mkdirSync(outDir, { recursive: true });
  const subtitle =
    `${users.length} ${options.seededIds ? 'seeded' : 'new'} users with hidden tastes, ${options.pageSize} videos per request, ` +
    `a round every ${options.roundMs / 1000} s; world --users ${options.world.users} --videos ${options.world.videos} --seed ${options.world.seed}\n` +
    'baselines: the same users served by them all along, same engagement model; ideal knows the hidden taste';
  writeFileSync(join(outDir, 'chart.svg'), renderChart(result.rounds, result.retrains, subtitle));
  writeFileSync(join(outDir, 'rounds.csv'), csv(result.rounds));
  writeFileSync(
    join(outDir, 'results.json'),
    JSON.stringify({ options: { ...options, world: { ...options.world, now: options.world.now.toISOString() } }, ...result }, null, 2),
  );
  log(summary(result));
  if (result.unknownVideos > 0) log(`note: ${result.unknownVideos} served videos were not in the seeded world (added later) and counted as skipped`);
  log(`done in ${((Date.now() - started) / 1000).toFixed(0)} s; chart, CSV and JSON in ${outDir}`);
}

main().catch((err) => {
  process.stderr.write(`simulate failed: ${(err as Error).stack ?? err}\n`);
  process.exit(1);
});
