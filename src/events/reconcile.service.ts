import { Injectable } from '@nestjs/common';
import { EventQueuesRepository } from './event-queues.repository';
import { InteractionLogRepository } from './interaction-log.repository';
import { OnlineStateRepository } from './online-state.repository';

const PAGE = 1000;

/** A user whose online state does not count what the log holds. */
export interface Disagreement {
  userId: string;
  /** Events applied to the online state (its version). */
  applied: number;
  logged: number;
  /** Applied events waiting as "applied online, not logged" dead letters. */
  pending: number;
}

/**
 * Proves the online state and the interaction log agree: for every user in the log, the
 * events applied to its online state equal its rows plus its events waiting as
 * "applied online, not logged" dead letters (which a replay writes). Meaningful with
 * the events queue drained (a job in progress is applied before it is logged).
 */
@Injectable()
export class ReconcileService {
  constructor(
    private readonly log: InteractionLogRepository,
    private readonly state: OnlineStateRepository,
    private readonly queues: EventQueuesRepository,
  ) {}

  async check(): Promise<{ users: number; disagreements: Disagreement[]; busyJobs: number }> {
    const pendingByUser = new Map<string, number>();
    for (const d of await this.queues.deadLetterDetails()) {
      if (d.data.appliedSeqs?.length) pendingByUser.set(d.data.userId, (pendingByUser.get(d.data.userId) ?? 0) + d.data.appliedSeqs.length);
    }
    const disagreements: Disagreement[] = [];
    let users = 0;
    for (let after: string | null = null; ; ) {
      const page = await this.log.userCounts(after, PAGE);
      if (page.length === 0) break;
      const versions = await this.state.readVersions(page.map((p) => p.userId));
      page.forEach((p, i) => {
        const pending = pendingByUser.get(p.userId) ?? 0;
        if (versions[i] !== p.rows + pending) disagreements.push({ userId: p.userId, applied: versions[i], logged: p.rows, pending });
      });
      users += page.length;
      after = page[page.length - 1].userId;
    }
    const counts = (await this.queues.jobCounts()).events ?? {};
    const busyJobs = (counts.waiting ?? 0) + (counts.active ?? 0) + (counts.delayed ?? 0) + (counts.prioritized ?? 0);
    return { users, disagreements, busyJobs };
  }
}
