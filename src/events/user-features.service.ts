import { Injectable } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { CatalogVideo } from '../features/catalog-video';
import { featureByName, userContext } from '../features/feature-registry';
import { decayedAt, decodeUserState, EventCounts, USER_TIME_CONSTANTS, UserState } from '../features/user-state';
import { emptyVideoStats } from '../features/video-stats';
import { OnlineStateRepository, UserFeaturesRead } from './online-state.repository';

/** Registry features that depend on the user alone: shown exactly as the ranker computes them. */
export const USER_ONLY_FEATURES = [
  'user_views_log',
  'user_likes_log',
  'user_like_rate',
  'user_skip_rate',
  'user_complete_rate',
  'user_watch_ratio',
  'user_activity_1h',
  'user_skips_1h',
  'user_hours_since_last',
] as const;

const NO_VIDEO: CatalogVideo = {
  id: '',
  creatorId: '',
  title: '',
  category: '',
  tags: [],
  durationMs: 0,
  createdAt: 0,
  embedding: null,
  active: false,
};

export interface UserFeaturesResponse {
  userId: string;
  /** Events applied so far (the state's version). */
  eventsApplied: number;
  lastEventAt: string | null;
  counts: EventCounts;
  /** Decayed counters as of now. */
  recent1h: EventCounts;
  recent24h: EventCounts;
  features: Record<string, number>;
  watchMs: number;
  /** Decayed affinities as of now, strongest first. */
  categoryAffinity: Record<string, number>;
  creatorAffinity: Record<string, number>;
  follows: string[];
  embedding: number[];
  seenCount: number;
  /** This user's latest applied events (acceptance -> features) and the pipeline's latest lag over all users. */
  freshness: {
    acceptedAt: string | null;
    appliedAt: string | null;
    lagMs: number | null;
    pipeline: { lagMs: number; at: string } | null;
  };
  computedAt: string;
}

const iso = (ms: number | null) => (ms === null || ms === 0 ? null : new Date(ms).toISOString());

function decayCounts(counts: EventCounts, last: number, now: number, tau: number): EventCounts {
  return Object.fromEntries(Object.entries(counts).map(([k, v]) => [k, decayedAt(v, last, now, tau)])) as EventCounts;
}

function decayedSorted(map: Map<string, number>, last: number, now: number, limit: number): Record<string, number> {
  return Object.fromEntries(
    [...map]
      .map(([k, v]) => [k, decayedAt(v, last, now, USER_TIME_CONSTANTS.DAY)] as const)
      .sort((a, b) => Math.abs(b[1]) - Math.abs(a[1]))
      .slice(0, limit),
  );
}

export function toUserFeaturesResponse(
  userId: string,
  state: UserState,
  read: UserFeaturesRead,
  pipeline: { lagMs: number; at: number } | null,
  now: number,
): UserFeaturesResponse {
  const ctx = { ...userContext(state, now), video: NO_VIDEO, stats: emptyVideoStats() };
  const features: Record<string, number> = {};
  for (const name of USER_ONLY_FEATURES) features[name] = featureByName(name)!.compute(ctx);
  const last = state.lastEventAt;
  return {
    userId,
    eventsApplied: state.version,
    lastEventAt: iso(last),
    counts: state.counts,
    recent1h: decayCounts(state.recent1h, last, now, USER_TIME_CONSTANTS.HOUR),
    recent24h: decayCounts(state.recent24h, last, now, USER_TIME_CONSTANTS.DAY),
    features,
    watchMs: state.watchMs,
    categoryAffinity: decayedSorted(state.categoryAffinity, last, now, 50),
    creatorAffinity: decayedSorted(state.creatorAffinity, last, now, 20),
    follows: state.follows,
    embedding: state.embedding,
    seenCount: read.seenCount,
    freshness: {
      acceptedAt: iso(read.acceptedAt),
      appliedAt: iso(read.appliedAt),
      lagMs: read.acceptedAt !== null && read.appliedAt !== null ? read.appliedAt - read.acceptedAt : null,
      pipeline: pipeline && { lagMs: pipeline.lagMs, at: new Date(pipeline.at).toISOString() },
    },
    computedAt: new Date(now).toISOString(),
  };
}

/** GET /v1/me/features: the caller's online state as the feed sees it. */
@Injectable()
export class UserFeaturesService {
  constructor(
    private readonly state: OnlineStateRepository,
    private readonly config: AppConfig,
  ) {}

  async get(userId: string): Promise<UserFeaturesResponse> {
    // The pipeline's lag is one shared key (one slot): while its master is down the user's own features still answer.
    const [read, pipeline] = await Promise.all([this.state.readUserFeatures(userId), this.state.readFreshness().catch(() => null)]);
    return toUserFeaturesResponse(userId, decodeUserState(read.raw, this.config.EMBEDDING_DIM), read, pipeline, Date.now());
  }
}
