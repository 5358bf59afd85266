import { ItemNeighbours } from '../../features/item-neighbours';
import { EventLog, Interner } from '../data/training-log';
import { EventType } from '../../events/event-types';
import { computeItemNeighbours, DEFAULT_NEIGHBOUR_OPTIONS } from './co-engagement';

function log(histories: [string, number[], EventType?][]): { events: EventLog; users: number } {
  const users = new Interner();
  const rows: { at: number; u: number; v: number; type: EventType }[] = [];
  histories.forEach(([user, videos, type = 'view'], h) => videos.forEach((v, i) => rows.push({ at: i * 1000 + h, u: users.id(user), v, type })));
  rows.sort((a, b) => a.at - b.at);
  const events = new EventLog();
  for (const r of rows) events.push(r.at, r.u, r.v, r.type, null, -1);
  return { events, users: users.size };
}

const neighboursOf = (n: ItemNeighbours, key: number) => Array.from(n.ids.subarray(n.offsets[key], n.offsets[key + 1]));

describe(computeItemNeighbours.name, () => {
  it('links videos engaged close together, symmetrically, and "next" only forward', async () => {
    const { events, users } = log([
      ['a', [0, 1, 2]],
      ['b', [0, 1]],
      ['c', [3, 4]],
    ]);
    const n = await computeItemNeighbours(events, users, 5, -Infinity, Infinity);
    expect(neighboursOf(n, 0).sort()).toEqual([1, 2]);
    expect(neighboursOf(n, 3)).toEqual([4]);
    expect(neighboursOf(n, 4)).toEqual([3]);
    expect(n.co[n.find(0, 1)]).toBeGreaterThan(n.co[n.find(0, 2)]);
    expect(n.next[n.find(0, 1)]).toBeGreaterThan(0);
    expect(n.next[n.find(1, 0)]).toBe(0);
    expect(Array.from(n.engagements)).toEqual([2, 2, 1, 1, 1]);
  });

  it('ignores skips, events outside the range, and gives the same lists in one pass or many', async () => {
    const { events, users } = log([
      ['a', [0, 1, 2, 3, 4, 0, 2]],
      ['b', [4, 3, 2]],
      ['s', [0, 4], 'skip'],
    ]);
    const one = await computeItemNeighbours(events, users, 5, -Infinity, Infinity);
    const many = await computeItemNeighbours(events, users, 5, -Infinity, Infinity, { ...DEFAULT_NEIGHBOUR_OPTIONS, maxRecords: 3 });
    expect(Array.from(many.ids)).toEqual(Array.from(one.ids));
    expect(Array.from(many.co)).toEqual(Array.from(one.co));
    expect(one.engagements[0]).toBe(1);
    const early = await computeItemNeighbours(events, users, 5, -Infinity, 1500);
    expect(neighboursOf(early, 0)).toEqual([1]);
  });

  it('keeps at most maxNeighbours, the strongest', async () => {
    const { events, users } = log([
      ['a', [0, 1, 2, 3]],
      ['b', [0, 1]],
      ['c', [0, 1]],
    ]);
    const n = await computeItemNeighbours(events, users, 4, -Infinity, Infinity, { ...DEFAULT_NEIGHBOUR_OPTIONS, maxNeighbours: 1 });
    expect(neighboursOf(n, 0)).toEqual([1]);
  });
});
