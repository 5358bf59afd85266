/**
 * Runs N copies of the api (dist/src/main.js) sharing one port through node:cluster,
 * the way a single box uses all its cores (PM2 cluster mode does the same). Each copy
 * is a full, independent instance: its own catalog snapshot, ANN index and model.
 *
 *   API_PROCESSES=2 node dist/bench/feed/cluster-api.js
 */
import cluster from 'node:cluster';
import { join } from 'node:path';

const processes = Number(process.env.API_PROCESSES ?? 2);

if (cluster.isPrimary) {
  let stopping = false;
  for (let i = 0; i < processes; i++) cluster.fork();
  cluster.on('exit', (worker, code) => {
    if (!stopping) process.stderr.write(`api process ${worker.process.pid} exited with ${code}\n`);
    if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(stopping ? 0 : 1);
  });
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.on(signal, () => {
      stopping = true;
      for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill(signal);
    });
  }
} else {
  require(join(__dirname, '..', '..', 'src', 'main.js'));
}
