import { AppConfig } from '../config/app-config';
import { OnlineStateRepository } from './online-state.repository';
import { UserFeaturesService } from './user-features.service';

/** The user's own keys answer; the shared freshness hash (another slot, maybe another master) may not. */
function service(freshness: () => Promise<{ lagMs: number; at: number } | null>): UserFeaturesService {
  const state = {
    readUserFeatures: async () => ({ raw: null, acceptedAt: null, appliedAt: null, seenCount: 0 }),
    readFreshness: freshness,
  } as unknown as OnlineStateRepository;
  return new UserFeaturesService(state, Object.assign(new AppConfig(), { EMBEDDING_DIM: 4 }));
}

describe(UserFeaturesService.name, () => {
  it('reports the pipeline lag it read', async () => {
    const body = await service(async () => ({ lagMs: 12, at: 0 })).get('u1');
    expect(body.freshness.pipeline).toEqual({ lagMs: 12, at: new Date(0).toISOString() });
  });

  it('answers with the user’s own features when the shared freshness hash cannot be read (its master down)', async () => {
    const body = await service(() => Promise.reject(new Error('CLUSTERDOWN Hash slot not served'))).get('u1');
    expect(body.userId).toBe('u1');
    expect(body.freshness.pipeline).toBeNull();
  });
});
