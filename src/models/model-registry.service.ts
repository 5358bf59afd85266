import {
  BadRequestException,
  ConflictException,
  Injectable,
  Logger,
  NotFoundException,
  ServiceUnavailableException,
} from '@nestjs/common';
import { createHash, randomBytes } from 'node:crypto';
import { FeatureSpec, FeatureSpecError, validateFeatureSpec } from '../features/feature-spec';
import { PubSubService } from '../redis/pubsub.service';
import { RedisKeys } from '../redis/redis-keys';
import { ModelVersionRepository, ModelVersionSummary, ModelVersionWithArtifact } from './model-version.repository';
import { ModelValidationError, validateOnnxModel } from './onnx-model-validator';

export interface RegisterModelInput {
  artifact: Buffer;
  featureSpec: unknown;
  metrics?: Record<string, unknown>;
  trainingInfo?: Record<string, unknown>;
  /** Defaults to a new sortable id. */
  id?: string;
}

/** A sortable, unique version id: m-20261124T195600Z-1a2b3c. */
export function newModelVersionId(now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  return `m-${stamp}-${randomBytes(3).toString('hex')}`;
}

/**
 * The model registry: versions in Postgres, one active at a time, and every api
 * instance told about a change on the model channel (the payload is the version id).
 */
@Injectable()
export class ModelRegistryService {
  private readonly logger = new Logger(ModelRegistryService.name);

  constructor(
    private readonly repository: ModelVersionRepository,
    private readonly pubsub: PubSubService,
    private readonly keys: RedisKeys,
  ) {}

  list(): Promise<ModelVersionSummary[]> {
    return this.repository.list();
  }

  async get(id: string): Promise<ModelVersionSummary> {
    const found = await this.repository.find(id);
    if (!found) throw new NotFoundException(`model ${id} not found`);
    return found;
  }

  async active(): Promise<ModelVersionWithArtifact | null> {
    const [active] = await this.repository.findByStatus('active');
    return active ?? null;
  }

  /**
   * Validates the spec against the feature registry and the artifact in onnxruntime
   * (a dummy batch must produce one probability per head), then stores it as a
   * candidate. Anything invalid is a 400 and nothing is written.
   */
  async register(input: RegisterModelInput): Promise<ModelVersionSummary> {
    let spec: FeatureSpec;
    try {
      spec = validateFeatureSpec(input.featureSpec);
    } catch (err) {
      if (err instanceof FeatureSpecError) throw new BadRequestException({ message: err.message, field: 'featureSpec' });
      throw err;
    }
    try {
      await validateOnnxModel(input.artifact, spec);
    } catch (err) {
      if (err instanceof ModelValidationError) throw new BadRequestException({ message: err.message, field: 'artifact' });
      throw err;
    }
    const created = await this.repository.insert({
      id: input.id ?? newModelVersionId(),
      status: 'candidate',
      artifact: input.artifact,
      artifactSha256: createHash('sha256').update(input.artifact).digest('hex'),
      featureSpec: { input: spec.input, output: spec.output, features: spec.features, heads: spec.heads },
      metrics: input.metrics ?? {},
      trainingInfo: input.trainingInfo ?? {},
    });
    this.logger.log(`registered model ${created.id} (${created.artifactBytes} bytes, ${spec.features.length} features)`);
    return created;
  }

  /** Per serving version: impressions, users and outcome rates among seen impressions since `since`. */
  async variants(since: Date, labelWindowMinutes: number) {
    const rows = await this.repository.variantReport(since, labelWindowMinutes);
    const rate = (n: number, d: number) => (d > 0 ? n / d : null);
    return rows.map((r) => ({
      modelVersion: r.modelVersion,
      users: r.users,
      impressions: r.impressions,
      exposed: r.exposed,
      rates: {
        engaged: rate(r.engaged, r.exposed),
        like: rate(r.likes, r.exposed),
        complete: rate(r.completes, r.exposed),
        share: rate(r.shares, r.exposed),
        skip: rate(r.skips, r.exposed),
      },
    }));
  }

  /** Retires the active version and activates `id` in one transaction, then announces it. */
  async activate(id: string): Promise<ModelVersionSummary> {
    const activated = await this.repository.activate(id);
    if (!activated) throw new NotFoundException(`model ${id} not found`);
    await this.announce(id);
    this.logger.log(`activated model ${id}`);
    return activated;
  }

  /** Re-activates the version that was active before the current one. */
  async rollback(): Promise<ModelVersionSummary> {
    const previous = await this.repository.previousActive();
    if (!previous) throw new ConflictException('no previously active model to roll back to');
    return this.activate(previous.id);
  }

  /** Makes `id` the shadow model: scored alongside the active one, never served. */
  async shadow(id: string): Promise<ModelVersionSummary> {
    const updated = await this.repository.setShadow(id);
    if (updated === 'missing') throw new NotFoundException(`model ${id} not found`);
    if (updated === 'active') throw new ConflictException(`model ${id} is active; the active model cannot also be the shadow`);
    await this.announce(id);
    return updated;
  }

  async unshadow(id: string): Promise<ModelVersionSummary> {
    const updated = await this.repository.clearShadow(id);
    if (!updated) {
      await this.get(id);
      throw new ConflictException(`model ${id} is not the shadow model`);
    }
    await this.announce(id);
    return updated;
  }

  private async announce(id: string): Promise<void> {
    try {
      await this.pubsub.publish(this.keys.modelChannel, id);
    } catch (err) {
      this.logger.error(`could not announce model ${id}: ${(err as Error).message}`);
      throw new ServiceUnavailableException(
        `model ${id} is updated in the registry but the change could not be announced to serving instances; retry the call`,
      );
    }
  }
}
