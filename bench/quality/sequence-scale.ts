import { availableParallelism, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { InferenceSession, Tensor } from 'onnxruntime-node';
import { createRng } from '../../src/training/sequence/sequence-weights';
import { exportSequenceEncoderToOnnx, SEQUENCE_ONNX_ITEMS, SEQUENCE_ONNX_TYPES, SEQUENCE_ONNX_USER, sequenceOnnxInputs } from '../../src/training/sequence/sequence-onnx-export';
import { defaultEpochs, SEQUENCE_DEFAULTS, trainSequenceModel } from '../../src/training/sequence/train-sequence-model';

/**
 * Training cost of the sequence model on a synthetic log (Zipf-popular items, users drifting
 * through neighbouring items, three event types), then ONNX export size and one-user inference latency.
 *   node dist/bench/quality/sequence-scale.js [--interactions 1000000 --items 100000 --epochs 1 --dim 32]
 */

const log = (msg: string) => process.stdout.write(`${msg}\n`);
const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(0)} MiB`;

function syntheticLog(interactions: number, numItems: number, seed: number): { sequences: Int32Array[]; types: Int32Array[] } {
  const rng = createRng(seed);
  const zipf = () => Math.min(numItems, Math.floor(Math.exp(rng() * Math.log(numItems + 1))));
  const sequences: Int32Array[] = [];
  const types: Int32Array[] = [];
  for (let total = 0; total < interactions; ) {
    const n = Math.min(interactions - total, 5 + Math.floor(rng() * 90));
    const seq = new Int32Array(n);
    const t = new Int32Array(n);
    let item = zipf();
    for (let i = 0; i < n; i++) {
      item = rng() < 0.5 ? ((item + Math.floor(rng() * 20)) % numItems) + 1 : zipf();
      seq[i] = item;
      t[i] = Math.floor(rng() * 3);
    }
    sequences.push(seq);
    types.push(t);
    total += n;
  }
  return { sequences, types };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      interactions: { type: 'string', default: '1000000' },
      items: { type: 'string', default: '100000' },
      epochs: { type: 'string', default: '1' },
      dim: { type: 'string' },
      blocks: { type: 'string' },
    },
  });
  const numItems = Number(values.items);
  const data = syntheticLog(Number(values.interactions), numItems, 1);
  log(`${data.sequences.length} users, ${numItems} items, ${values.interactions} interactions`);
  const options = {
    epochs: Number(values.epochs),
    ...(values.dim ? { dim: Number(values.dim) } : {}),
    ...(values.blocks ? { numBlocks: Number(values.blocks) } : {}),
  };
  const positions = data.sequences.reduce((s, h) => s + Math.max(0, h.length - 1), 0);
  log(`options: ${JSON.stringify({ ...SEQUENCE_DEFAULTS, ...options })} (default epochs here: ${defaultEpochs(positions)})`);

  let lastWall = Date.now();
  let lastCpu = process.cpuUsage();
  let peakRss = process.memoryUsage().rss;
  const model = await trainSequenceModel(
    { ...data, numItems },
    {
      ...options,
      onEpoch: (epoch, loss) => {
        const cpu = process.cpuUsage(lastCpu);
        peakRss = Math.max(peakRss, process.memoryUsage().rss);
        log(`epoch ${epoch + 1}: loss ${loss.toFixed(4)}, ${((Date.now() - lastWall) / 1000).toFixed(1)} s wall, ${((cpu.user + cpu.system) / 1e6).toFixed(1)} s cpu`);
        lastWall = Date.now();
        lastCpu = process.cpuUsage();
      },
    },
  );
  log(`peak rss during training ${mib(peakRss)} (load average ${loadavg()[0].toFixed(1)} on ${availableParallelism()} cores)`);

  let t = Date.now();
  const bytes = exportSequenceEncoderToOnnx(model);
  log(`ONNX export: ${Date.now() - t} ms, ${mib(bytes.length)}`);
  t = Date.now();
  const session = await InferenceSession.create(bytes);
  log(`session load: ${Date.now() - t} ms`);
  const user = [data.sequences[0].subarray(-model.maxLength)];
  const inputs = sequenceOnnxInputs(model.maxLength, user, [data.types[0].subarray(-model.maxLength)]);
  const feeds = {
    [SEQUENCE_ONNX_ITEMS]: new Tensor('int64', inputs.items, [1, model.maxLength]),
    [SEQUENCE_ONNX_TYPES]: new Tensor('int64', inputs.types, [1, model.maxLength]),
  };
  const times: number[] = [];
  for (let i = 0; i < 300; i++) {
    const start = process.hrtime.bigint();
    await session.run(feeds, [SEQUENCE_ONNX_USER]);
    times.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  times.sort((a, b) => a - b);
  log(`one-user inference: p50 ${times[150].toFixed(3)} ms, p99 ${times[296].toFixed(3)} ms`);
  await session.release();
}

main().catch((err) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
