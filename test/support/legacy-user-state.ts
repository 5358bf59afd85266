import { UserState } from '../../src/features/user-state';

/** A state in the JSON form stored before the binary one: the affinity maps as flat `[key, value, ...]` arrays. */
export function legacyUserStateJson(state: UserState): Record<string, unknown> {
  const flat = (map: Map<string, number>): (string | number)[] => [...map].flat();
  return JSON.parse(JSON.stringify({ ...state, categoryAffinity: flat(state.categoryAffinity), creatorAffinity: flat(state.creatorAffinity) })) as Record<string, unknown>;
}
