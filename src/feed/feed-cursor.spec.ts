import { AppConfig } from '../config/app-config';
import { FeedCursorCodec, InvalidCursorError } from './feed-cursor';

describe(FeedCursorCodec.name, () => {
  const codec = new FeedCursorCodec(Object.assign(new AppConfig(), { FEED_SESSION_TTL_S: 60 }));
  const now = 1_800_000_000_000;
  const cursor = { session: codec.newSession(), offset: 40, issuedAt: now };

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
});
