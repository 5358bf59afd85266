/** Example answers of the models admin endpoints, shown in the OpenAPI document. */
export const MODEL_EXAMPLE = {
  id: 'm-20261203T090032Z-fd9338',
  status: 'active',
  createdAt: '2026-12-03T09:00:37.771Z',
  activatedAt: '2026-12-03T09:00:37.777Z',
  artifactBytes: 15632,
  artifactSha256: '19c2ae5aa3efcd9332fc915e394a249880a49527a66fd2c3514e94eb04875efe',
  featureSpec: { input: 'features', output: 'scores', features: ['user_like_rate', 'video_like_rate', 'user_video_cosine'], heads: ['like', 'complete', 'share', 'skip'] },
  metrics: { ranking: { model: { hr: 0.296, ndcg: 0.103 }, popularity: { hr: 0.139, ndcg: 0.041 } } },
  trainingInfo: { trainer: 'reelrank-mlp', hidden: [64, 32] },
};

export const TRAINING_JOB_EXAMPLE = {
  id: '1',
  state: 'completed',
  trigger: 'api',
  progress: { phase: 'done' },
  result: { modelId: 'm-20261203T091500Z-2b7c41', promoted: false, decision: 'kept the active model: held-out NDCG@10 0.101 <= 0.103', metrics: {}, timingsMs: { total: 4840 } },
  failedReason: null,
  createdAt: '2026-12-03T09:15:00.120Z',
  startedAt: '2026-12-03T09:15:00.180Z',
  finishedAt: '2026-12-03T09:15:05.020Z',
};

export const VARIANTS_EXAMPLE = {
  hours: 24,
  active: 'm-20261203T090032Z-fd9338',
  shadow: null,
  abShare: 0,
  variants: [
    { modelVersion: 'm-20261203T090032Z-fd9338', users: 100, impressions: 6000, exposed: 5400, rates: { engaged: 0.31, like: 0.12, complete: 0.21, share: 0.02, skip: 0.55 } },
  ],
};
