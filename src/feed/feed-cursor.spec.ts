import { AppConfig } from '../config/app-config';
import { createHash, createHmac } from 'node:crypto';
import { CURSOR_SERVED_MAX, FeedCursorCodec, InvalidCursorError } from './feed-cursor';

describe(FeedCursorCodec.name, () => {
  const codec = new FeedCursorCodec(Object.assign(new AppConfig(), { FEED_SESSION_TTL_S: 60 }));
  const now = 1_800_000_000_000;
  const cursor = { session: codec.newSession(), offset: 40, issuedAt: now, served: ['v_1', 'v_2'] };
  /** A cursor as the codec would sign `fields` (what an earlier version, or a bug, could have issued). */
  const signed = (fields: unknown[], userId: string) => {
    const key = createHash('sha256').update(`reelrank-feed-cursor\0${new AppConfig().JWT_SECRET}`).digest();
    const payload = Buffer.from(JSON.stringify(fields)).toString('base64url');
    const sig = createHmac('sha256', key).update(userId).update('\0').update(payload).digest().subarray(0, 16);
    return `${payload}.${sig.toString('base64url')}`;
  };

  it('gives each session 12 random bytes of its own, across refills of its pool of random bytes', () => {
    const sessions = Array.from({ length: 1000 }, () => codec.newSession());
    expect(new Set(sessions).size).toBe(1000);
    for (const s of sessions) expect(Buffer.from(s, 'base64url')).toHaveLength(12);
    expect(sessions.every((s) => /^[A-Za-z0-9_-]{16}$/.test(s))).toBe(true);
  });

  it('round-trips for the same user', () => {
    expect(codec.decode(codec.encode(cursor, 'u1'), 'u1', now + 1000)).toEqual(cursor);
  });

  it('rejects another user, an edited payload, garbage and expired cursors', () => {
    const raw = codec.encode(cursor, 'u1');
    expect(() => codec.decode(raw, 'u2', now)).toThrow(InvalidCursorError);
    const [payload, sig] = raw.split('.');
    const edited = Buffer.from(JSON.stringify([cursor.session, 0, now])).toString('base64url');
    expect(edited).not.toEqual(payload);
    expect(() => codec.decode(`${edited}.${sig}`, 'u1', now)).toThrow(/not valid/);
    expect(() => codec.decode('nonsense', 'u1', now)).toThrow(/malformed/);
    expect(() => codec.decode(raw, 'u1', now + 61_000)).toThrow(/expired/);
  });

  it('decodes cursors issued before they carried served ids with none, and refuses a bad served list', () => {
    expect(codec.decode(signed([cursor.session, 0, now], 'u1'), 'u1', now)).toEqual({ session: cursor.session, offset: 0, issuedAt: now, served: [] });
    expect(() => codec.decode(signed([cursor.session, 0, now, [1]], 'u1'), 'u1', now)).toThrow(/malformed/);
    const tooMany = Array.from({ length: CURSOR_SERVED_MAX + 1 }, (_, i) => `v_${i}`);
    expect(() => codec.decode(signed([cursor.session, 0, now, tooMany], 'u1'), 'u1', now)).toThrow(/malformed/);
  });
});
