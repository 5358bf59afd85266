import { createHash } from 'node:crypto';
import { Registry } from 'prom-client';
import { AppConfig } from '../config/app-config';
import { CatalogVideo } from '../features/catalog-video';
import { userContext } from '../features/feature-registry';
import { emptyUserState } from '../features/user-state';
import { emptyVideoStats } from '../features/video-stats';
import { PubSubService } from '../redis/pubsub.service';
import { RedisKeys } from '../redis/redis-keys';
import { fitStandardizer, initMlp } from '../training/model/mlp';
import { exportMlpToOnnx } from '../training/model/onnx-export';
import { ModelRuntime } from './model-runtime.service';
import { ModelArtifact, ActiveModelRepository } from '../models/active-model.repository';

/** The registry as the runtime reads it: one active row, changeable by the test. */
class FakeRegistry {
  active: ModelArtifact | null = null;
  async findActiveHead() {
    return this.active && { id: this.active.id, artifactSha256: this.active.artifactSha256 };
  }
  async findShadowHead() {
    return null;
  }
  async findArtifact(id: string) {
    return this.active?.id === id ? this.active : null;
  }
}

function model(id: string, features = ['video_like_rate', 'video_skip_rate'], heads = ['like', 'skip']): ModelArtifact {
  const x = Float32Array.from({ length: 20 * features.length }, (_, i) => (i % 7) / 7);
  const artifact = Buffer.from(exportMlpToOnnx(initMlp(features.length, [4], heads, 3), fitStandardizer(x, 20, features.length)));
  return {
    id,
    artifact,
    artifactSha256: createHash('sha256').update(artifact).digest('hex'),
    featureSpec: { input: 'features', output: 'scores', features, heads },
  };
}

const video: CatalogVideo = { id: 'v', creatorId: 'c', title: '', category: 'x', tags: [], durationMs: 1000, createdAt: 0, embedding: null, active: true };
const request = { user: userContext(emptyUserState(4), 0), videos: [video, video], stats: [emptyVideoStats(), emptyVideoStats()] };

describe(ModelRuntime.name, () => {
  let registry: FakeRegistry;
  let runtime: ModelRuntime;
  const rank = async () => {
    const { result, fallback } = await runtime.rank(request);
    result.release();
    return { version: result.version, fallback };
  };

  function start(config: Partial<AppConfig> = {}): Promise<void> {
    registry = new FakeRegistry();
    const pubsub = { subscribe: async () => undefined } as unknown as PubSubService;
    runtime = new ModelRuntime(
      Object.assign(new AppConfig(), { FEED_CANDIDATES: 10 }, config),
      registry as unknown as ActiveModelRepository,
      pubsub,
      new RedisKeys('test'),
      new Registry(),
    );
    return runtime.onApplicationBootstrap();
  }

  afterEach(() => runtime.onApplicationShutdown());

  it('ranks with the heuristic until a model is active, then with the model; a rejected model changes nothing', async () => {
    await start();
    expect(await rank()).toEqual({ version: 'heuristic', fallback: 'no_model' });
    registry.active = model('m1');
    await runtime.refresh('test');
    expect(await rank()).toEqual({ version: 'm1', fallback: null });
    registry.active = { ...model('m2'), artifactSha256: '0'.repeat(64) };
    await runtime.refresh('test');
    expect(await rank()).toEqual({ version: 'm1', fallback: null });
    registry.active = model('m3', ['video_like_rate', 'made_up_feature']);
    await runtime.refresh('test');
    expect(runtime.version).toBe('m1');
    registry.active = null;
    await runtime.refresh('test');
    expect(await rank()).toEqual({ version: 'heuristic', fallback: 'no_model' });
  });

  it('opens the breaker after three slow scorings in a row and serves the heuristic meanwhile', async () => {
    await start({ MODEL_SLOW_MS: 0 });
    registry.active = model('m1');
    await runtime.refresh('test');
    expect((await Promise.all([rank(), rank(), rank()])).map((r) => r.version)).toEqual(['m1', 'm1', 'm1']);
    expect(await rank()).toEqual({ version: 'heuristic', fallback: 'model_slow' });
  });

  it('does not count time spent waiting for a busy event loop as model time (the breaker stays closed)', async () => {
    await start({ MODEL_SLOW_MS: 50 });
    registry.active = model('m1');
    await runtime.refresh('test');
    const blockLoop = () => {
      const until = performance.now() + 80;
      while (performance.now() < until);
    };
    for (let i = 0; i < 4; i++) {
      // Other work queued ahead of the inference holds the loop for 80 ms each time.
      setImmediate(blockLoop);
      const started = performance.now();
      const { result, fallback } = await runtime.rank(request);
      expect(performance.now() - started).toBeGreaterThanOrEqual(80);
      expect(result.computeMs).toBeLessThan(50);
      expect(fallback).toBeNull();
      result.release();
    }
  });
});
