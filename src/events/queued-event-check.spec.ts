import { QueuedEvent } from './event-jobs';
import { queuedEventProblem } from './queued-event-check';

describe(queuedEventProblem.name, () => {
  const now = Date.now();
  const event = (overrides: Partial<QueuedEvent> = {}): QueuedEvent => ({
    eventId: 'e1',
    videoId: 'v1',
    type: 'view',
    watchMs: 1000,
    requestId: null,
    occurredAt: now,
    receivedAt: now,
    ...overrides,
  });

  it('passes an event the log and the scripts can hold', () => {
    expect(queuedEventProblem('u1', event())).toBeNull();
    expect(queuedEventProblem('u1', event({ watchMs: null, requestId: 'r1', type: 'like' }))).toBeNull();
  });

  it.each([
    ['u\u0000', {}, 'userId must not contain NUL (\\u0000) characters'],
    ['u1', { eventId: '' }, 'eventId must be 1-128 characters'],
    ['u1', { videoId: 'v\ud800' }, 'videoId must be well-formed Unicode (no lone surrogates)'],
    ['u1', { type: 'bogus' as QueuedEvent['type'] }, expect.stringMatching(/^type must be one of impression, view/)],
    ['u1', { watchMs: 1.5 }, 'watchMs must be an integer from 0 to 86400000'],
    ['u1', { occurredAt: NaN }, 'occurredAt must be a finite instant'],
    ['u1', { occurredAt: null as unknown as number }, 'occurredAt must be a finite instant'],
    ['u1', { occurredAt: Date.UTC(1900, 0, 1) }, 'occurredAt must not be before 1970-01-01T00:00:00.000Z'],
    ['u1', { occurredAt: now + 3_600_000 }, 'occurredAt must not be more than 300000 ms in the future'],
  ])('refuses user %j with %j', (userId, overrides, problem) => {
    expect(queuedEventProblem(userId, event(overrides))).toEqual(problem);
  });
});
