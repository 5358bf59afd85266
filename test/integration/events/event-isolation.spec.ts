import { INestApplicationContext } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { DeadLetter, EventQueuesRepository } from '../../../src/events/event-queues.repository';
import { QueuedEvent } from '../../../src/events/event-jobs';
import { buildQueuedEvent, randomEvents } from '../../factories/event.factory';
import { uniqueId } from '../../factories/sequence';
import { createTestDataSource, truncateAllTables } from '../../support/database';
import { createCatalog, snapshotOnlineState } from '../../support/events';
import { clearTestRedis } from '../../support/redis';
import { runTs } from '../../support/run-ts';
import { createTestWorker, eventually, waitForQueuesIdle } from '../../support/test-worker';

/**
 * An event the worker cannot apply or log goes alone to the dead letters with its reason;
 * the rest of its job and every other job go through, and each user's online state counts
 * exactly the events in the log.
 */
describe('per-event isolation in the worker', () => {
  let db: DataSource;
  let worker: INestApplicationContext;
  let queues: EventQueuesRepository;
  let videos: string[];

  beforeAll(async () => {
    process.env.EVENTS_JOB_ATTEMPTS = '2';
    process.env.QUEUE_FAILOVER_BUDGET_MS = '0'; // exactly two attempts
    process.env.EVENTS_RETRY_DELAY_MS = '10';
    db = await createTestDataSource();
    await truncateAllTables(db);
    await clearTestRedis();
    // A run killed mid-test leaves its constraint behind.
    await db.query(`ALTER TABLE interactions DROP CONSTRAINT IF EXISTS isolation_test_refuse`);
    videos = await createCatalog(db, 10);
    worker = await createTestWorker();
    queues = worker.get(EventQueuesRepository);
  });

  afterAll(async () => {
    await worker.close();
    await db.query(`ALTER TABLE interactions DROP CONSTRAINT IF EXISTS isolation_test_refuse`);
    await db.destroy();
  });

  /** Per user: rows in the log, and whether their user_seq are exactly 1..n. */
  async function logOf(userId: string): Promise<{ rows: number; seqsContiguous: boolean }> {
    const rows: { user_seq: string }[] = await db.query(`SELECT user_seq FROM interactions WHERE user_id = $1 ORDER BY user_seq`, [userId]);
    return { rows: rows.length, seqsContiguous: rows.every((r, i) => Number(r.user_seq) === i + 1) };
  }

  async function versionOf(userId: string): Promise<number> {
    return (await snapshotOnlineState(worker, [userId], [])).users[userId].state.version;
  }

  const deadLettersOf = async (userId: string): Promise<DeadLetter[]> => (await queues.listDeadLetters()).filter((d) => d.userId === userId);

  it('sets an unfit event aside as a dead letter of its own; fixed and replayed, it is applied and logged once', async () => {
    const at = (ms: number) => ms as unknown as number;
    const poison: [string, Partial<QueuedEvent>][] = [
      ['occurredAt', { occurredAt: at(NaN) }],
      ['occurredAt', { occurredAt: Date.UTC(1900, 0, 1) }],
      ['videoId', { videoId: 'v\u0000x' }],
      ['type', { type: 'bogus' as QueuedEvent['type'] }],
    ];
    const users = poison.map(() => uniqueId('u'));
    const clean = [uniqueId('u'), uniqueId('u')];
    for (const [i, userId] of users.entries()) {
      const events = randomEvents(10, videos, 100 + i);
      events.splice(4, 0, buildQueuedEvent({ videoId: videos[0], ...poison[i][1] }));
      await queues.enqueueApply(userId, events);
    }
    for (const [i, userId] of clean.entries()) await queues.enqueueApply(userId, randomEvents(10, videos, 200 + i));
    const nulUser = `u\u0000${uniqueId('n')}`;
    await queues.enqueueApply(nulUser, randomEvents(3, videos, 300));
    const lone = uniqueId('u');
    await queues.enqueueApply(lone, [buildQueuedEvent({ videoId: videos[1], occurredAt: at(NaN) })]);

    await eventually(async () => (await queues.deadLetterCounts()).events === 4 + 3 + 1, '8 dead letters', 20_000);
    await waitForQueuesIdle(worker);

    for (const userId of [...users, ...clean]) {
      expect(await logOf(userId)).toEqual({ rows: 10, seqsContiguous: true });
      expect(await versionOf(userId)).toBe(10);
    }
    for (const [i, userId] of users.entries()) {
      const [dead] = await deadLettersOf(userId);
      expect(dead).toMatchObject({ events: 1, attemptsMade: expect.any(Number) });
      expect(dead.failedReason).toMatch(new RegExp(`^not applied: ${poison[i][0]} `));
    }
    const nulDead = await deadLettersOf(nulUser);
    expect(nulDead).toHaveLength(3);
    expect(nulDead.every((d) => d.events === 1 && /userId must not contain NUL/.test(d.failedReason))).toBe(true);
    expect((await deadLettersOf(lone))[0].failedReason).toBe('not applied: occurredAt must be a finite instant');
    expect(await logOf(lone)).toEqual({ rows: 0, seqsContiguous: true });

    const listed = await runTs('src/cli/dlq-replay.ts', ['--list']);
    expect(listed.code).toBe(0);
    expect(listed.stdout.trim().split('\n')).toHaveLength(8);
    expect(listed.stdout).toMatch(new RegExp(`^events\\t\\S+\\tuser=${users[3]}\\tevents=1\\tattempts=\\d+\\tnot applied: type must be one of`, 'm'));

    // Fix the NaN time, replay that one; discard the bogus type; replay the NUL video as is (it fails again).
    const [nan] = await deadLettersOf(users[0]);
    const fixed = await runTs('src/cli/dlq-replay.ts', ['--fix', nan.id, '--set', `occurredAt=${new Date().toISOString()}`]);
    expect(fixed.stdout).toMatch(/fixed/);
    expect((await runTs('src/cli/dlq-replay.ts', ['--discard', (await deadLettersOf(users[3]))[0].id])).stdout).toMatch(/discarded/);
    const replay = await runTs('src/cli/dlq-replay.ts', ['--only', nan.id, '--only', (await deadLettersOf(users[2]))[0].id]);
    expect(replay.stdout).toMatch(/re-enqueued 2 from events/);

    await eventually(async () => (await logOf(users[0])).rows === 11, 'the fixed event logged');
    await waitForQueuesIdle(worker);
    expect(await logOf(users[0])).toEqual({ rows: 11, seqsContiguous: true });
    expect(await versionOf(users[0])).toBe(11);
    expect(await deadLettersOf(users[0])).toHaveLength(0);
    expect(await deadLettersOf(users[3])).toHaveLength(0);
    expect(await versionOf(users[3])).toBe(10);
    // Still unfit: a dead letter again, nothing applied.
    await eventually(async () => (await deadLettersOf(users[2])).length === 1, 'the NUL video a dead letter again');
    expect(await versionOf(users[2])).toBe(10);
    expect(await logOf(users[2])).toEqual({ rows: 10, seqsContiguous: true });
  }, 120_000);

  it('keeps a row the log refuses on its own as a dead letter with its seq; the replay writes only that row', async () => {
    const [refused, neighbour] = [uniqueId('u'), uniqueId('u')];
    await db.query(`ALTER TABLE interactions ADD CONSTRAINT isolation_test_refuse CHECK (event_id NOT LIKE 'refuse-%')`);
    const events = randomEvents(10, videos.slice(0, 3), 400);
    events[6] = { ...events[6], eventId: 'refuse-1' };
    await Promise.all([queues.enqueueApply(refused, events), queues.enqueueApply(neighbour, randomEvents(10, videos.slice(0, 3), 401))]);

    await eventually(async () => (await deadLettersOf(refused)).length === 1, 'the refused row a dead letter', 20_000);
    await waitForQueuesIdle(worker);
    expect(await logOf(neighbour)).toEqual({ rows: 10, seqsContiguous: true });
    expect((await logOf(refused)).rows).toBe(9);
    expect(await versionOf(refused)).toBe(10);
    const [dead] = await deadLettersOf(refused);
    expect(dead.failedReason).toMatch(/^applied online, not logged: .*isolation_test_refuse/);
    const shown = await runTs('src/cli/dlq-replay.ts', ['--show', dead.id]);
    expect(JSON.parse(shown.stdout).data).toMatchObject({ userId: refused, appliedSeqs: [expect.any(Number)], events: [{ eventId: 'refuse-1' }] });

    // The state counts one event more than the log, and the dead letter accounts for it.
    const agreed = await runTs('src/cli/dlq-replay.ts', ['--reconcile']);
    expect(agreed.code).toBe(0);
    expect(agreed.stdout).toMatch(/\d+ users checked, 0 disagree/);

    const before = await snapshotOnlineState(worker, [refused], videos.slice(0, 3));
    await db.query(`ALTER TABLE interactions DROP CONSTRAINT isolation_test_refuse`);
    expect((await runTs('src/cli/dlq-replay.ts', ['--only', dead.id])).stdout).toMatch(/re-enqueued 1 from events/);
    await eventually(async () => (await logOf(refused)).rows === 10, 'the refused row logged');
    await waitForQueuesIdle(worker);
    expect(await logOf(refused)).toEqual({ rows: 10, seqsContiguous: true });
    const after = await snapshotOnlineState(worker, [refused], videos.slice(0, 3));
    // Only the row was written: the user and the videos were not applied a second time.
    expect(after.users[refused].state.version).toBe(10);
    expect(after.videos).toEqual(before.videos);
    expect(await deadLettersOf(refused)).toHaveLength(0);

    // A row lost from the log behind the pipeline's back is caught.
    await db.query(`DELETE FROM interactions WHERE user_id = $1 AND user_seq = 3`, [neighbour]);
    const disagree = await runTs('src/cli/dlq-replay.ts', ['--reconcile']);
    expect(disagree.code).toBe(1);
    expect(disagree.stdout).toContain(`${neighbour}\tapplied=10\tlogged=9\tpending=0`);
    expect(disagree.stdout).toMatch(/users checked, 1 disagree/);
  }, 150_000);
});
