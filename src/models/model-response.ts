import { ModelVersionSummary } from './model-version.repository';

/** A registry entry as the admin API shows it (never the artifact bytes). */
export function toModelResponse(m: ModelVersionSummary) {
  return {
    id: m.id,
    status: m.status,
    createdAt: m.createdAt.toISOString(),
    activatedAt: m.activatedAt?.toISOString() ?? null,
    artifactBytes: m.artifactBytes,
    artifactSha256: m.artifactSha256,
    featureSpec: m.featureSpec,
    metrics: m.metrics,
    trainingInfo: m.trainingInfo,
  };
}
