import { EventRecord } from '../../src/importer/import-records';
import { dateFromTraining, leaveLastOut } from './leave-last-out';

function ev(userId: string, videoId: string, type: EventRecord['type'], occurredAt: number): EventRecord {
  return { eventId: `${userId}-${videoId}-${type}-${occurredAt}`, userId, videoId, type, watchMs: null, occurredAt };
}

describe(leaveLastOut.name, () => {
  const events = [
    ev('u1', 'v1', 'view', 1),
    ev('u1', 'v2', 'view', 3),
    ev('u1', 'v3', 'view', 3), // same time as v2, later in the file: the last one
    ev('u1', 'v3', 'like', 3),
    ev('u1', 'v1', 'skip', 5), // after the held-out event
    ev('u2', 'v1', 'view', 2), // one video only: not evaluated
    ev('u3', 'v2', 'like', 1),
    ev('u3', 'v2', 'view', 2), // one video only
    ev('u4', 'v5', 'view', 1), // an earlier event on the held-out video
    ev('u4', 'v4', 'view', 2),
    ev('u4', 'v5', 'view', 4),
  ];

  it("holds out each user's last video by time, ties by file order", () => {
    const { heldOut } = leaveLastOut(events);
    expect([...heldOut.entries()].sort()).toEqual([
      ['u1', 'v3'],
      ['u4', 'v5'],
    ]);
  });

  it('trains on everything before it, never on the held-out video', () => {
    const { train } = leaveLastOut(events);
    expect(train).toEqual([events[0], events[1], events[5], events[6], events[7], events[9]]);
  });
});

describe(dateFromTraining.name, () => {
  it('dates undated videos from their first training event, or the first event of all, never from held-out ones', () => {
    const video = (id: string, createdAt: number | null) => ({ id, creatorId: 'c', title: id, category: 'x', tags: [], durationMs: 1, createdAt });
    const videos = [video('a', null), video('b', null), video('c', 7)];
    dateFromTraining(videos, [ev('u1', 'a', 'view', 5), ev('u2', 'a', 'view', 3), ev('u2', 'c', 'view', 2)]);
    expect(videos.map((v) => v.createdAt)).toEqual([3, 2, 7]);
  });
});
