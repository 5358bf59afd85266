import { DataSource } from 'typeorm';
import { request, tokenFor } from './traffic';

export interface LogState {
  /** Rows in `interactions` for the users asked about. */
  rows: number;
  /** Accepted event ids with no row. */
  missing: string[];
  /** Rows per user. */
  perUser: Map<string, number>;
  /** Users whose rows do not carry distinct user_seq values 1..n (an event applied twice or a gap). */
  badSequences: string[];
}

/** What `interactions` holds for the users of `accepted` (event ids per user), compared with those ids. */
export async function readLog(db: DataSource, accepted: Map<string, Set<string>>): Promise<LogState> {
  const users = [...accepted.keys()];
  const rows: { user_id: string; event_id: string; user_seq: string | null }[] = await db.query(
    `SELECT user_id, event_id, user_seq FROM interactions WHERE user_id = ANY($1)`,
    [users],
  );
  const byUser = new Map<string, { ids: Set<string>; seqs: number[] }>();
  for (const r of rows) {
    let u = byUser.get(r.user_id);
    if (!u) byUser.set(r.user_id, (u = { ids: new Set(), seqs: [] }));
    u.ids.add(r.event_id);
    u.seqs.push(Number(r.user_seq));
  }
  const missing: string[] = [];
  for (const [user, ids] of accepted) for (const id of ids) if (!byUser.get(user)?.ids.has(id)) missing.push(id);
  const badSequences = [...byUser].filter(([, u]) => {
    const sorted = u.seqs.slice().sort((a, b) => a - b);
    return sorted.some((s, i) => s !== i + 1);
  });
  return {
    rows: rows.length,
    missing,
    perUser: new Map([...byUser].map(([user, u]) => [user, u.ids.size])),
    badSequences: badSequences.map(([user]) => user),
  };
}

/** Polls until every accepted event has its row (or `timeoutMs` passes); returns the last reading. */
export async function waitForLogged(db: DataSource, accepted: Map<string, Set<string>>, timeoutMs: number): Promise<LogState> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const state = await readLog(db, accepted);
    if (state.missing.length === 0 || Date.now() > deadline) return state;
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** How many events the user's online features count (`GET /v1/me/features` → eventsApplied). */
export async function eventsApplied(port: number, userId: string): Promise<number> {
  const res = await request<{ eventsApplied: number }>(`http://127.0.0.1:${port}/v1/me/features`, {
    headers: { authorization: `Bearer ${await tokenFor(userId)}` },
  });
  if (res.status !== 200 || !res.body) throw new Error(`GET /v1/me/features for ${userId}: ${res.status ?? res.error}`);
  return res.body.eventsApplied;
}
