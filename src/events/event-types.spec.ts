import { decodeUserState, emptyUserState } from '../features/user-state';
import { legacyUserStateJson } from '../../test/support/legacy-user-state';
import { videoStatDelta, VIDEO_STAT_FIELDS } from '../features/video-stats';
import { trendIncrements } from './trending';
import { EVENT_TYPE_TABLE, EVENT_TYPES } from './event-types';

describe('event type table', () => {
  it.each(EVENT_TYPES)('decodes a stored state that lacks %s with zero counts that can be incremented', (type) => {
    const stored = legacyUserStateJson(emptyUserState(4)) as Record<string, Record<string, number>>;
    for (const table of ['counts', 'recent1h', 'recent24h']) delete stored[table][type];

    const state = decodeUserState(JSON.stringify(stored), 4);
    state.counts[type] += 1;
    state.recent1h[type] += 1;
    state.recent24h[type] += 1;

    expect([state.counts[type], state.recent1h[type], state.recent24h[type]]).toEqual([1, 1, 1]);
  });

  it('drives the video counters and trending from its rows', () => {
    for (const type of EVENT_TYPES) {
      const row = EVENT_TYPE_TABLE[type];
      const delta = videoStatDelta(type, 1234);
      const expected = VIDEO_STAT_FIELDS.map((f) =>
        f === 'watchMs' ? (row.countsWatchTime ? 1234 : 0) : ((row.statDelta as Record<string, number>)[f] ?? 0),
      );
      expect(delta).toEqual(expected);
      expect(trendIncrements(type, 0) === null).toBe(row.trendingWeight === 0);
    }
  });
});
