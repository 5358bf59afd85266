import { Injectable } from '@nestjs/common';
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { AppConfig } from '../config/app-config';

/** Where a client is in its feed session. */
export interface FeedCursor {
  session: string;
  /** Degraded mode only: how far the session has walked the in-memory fallback list. */
  offset: number;
  /** Epoch ms the cursor was issued. */
  issuedAt: number;
  /**
   * Ids the page that issued the cursor served, not stored yet: the next page's request
   * adds them to the session's served set in the same round trip that reads it.
   */
  served: string[];
}

/** Ids a cursor carries at most (the largest page; what a page served while Redis was away is carried on with it). */
export const CURSOR_SERVED_MAX = 50;

export class InvalidCursorError extends Error {}

const SIGNATURE_BYTES = 16;

const SESSION_BYTES = 12;
const SESSION_POOL = 256;

/**
 * Opaque paging cursors: base64url JSON plus an HMAC (keyed from JWT_SECRET) over the
 * payload and the user id, so a cursor cannot be forged, edited or used by another
 * user, and expires with its session. Cursors issued before `served` existed (three
 * fields) decode with none.
 */
@Injectable()
export class FeedCursorCodec {
  private readonly key: Buffer;
  private readonly ttlMs: number;
  /** Random bytes for session ids, drawn SESSION_POOL ids at a time: one getrandom call per id cost ~25 µs of a first page. */
  private sessionBytes = Buffer.alloc(0);
  private sessionAt = 0;

  constructor(config: AppConfig) {
    this.key = createHash('sha256').update(`reelrank-feed-cursor\0${config.JWT_SECRET}`).digest();
    this.ttlMs = config.FEED_SESSION_TTL_S * 1000;
  }

  /** 12 random bytes (96 bits), base64url. */
  newSession(): string {
    if (this.sessionAt + SESSION_BYTES > this.sessionBytes.length) {
      this.sessionBytes = randomBytes(SESSION_BYTES * SESSION_POOL);
      this.sessionAt = 0;
    }
    return this.sessionBytes.toString('base64url', this.sessionAt, (this.sessionAt += SESSION_BYTES));
  }

  encode(cursor: FeedCursor, userId: string): string {
    const payload = Buffer.from(JSON.stringify([cursor.session, cursor.offset, cursor.issuedAt, cursor.served])).toString('base64url');
    return `${payload}.${this.sign(payload, userId).toString('base64url')}`;
  }

  decode(raw: string, userId: string, now = Date.now()): FeedCursor {
    const dot = raw.indexOf('.');
    if (dot <= 0) throw new InvalidCursorError('cursor is malformed');
    const payload = raw.slice(0, dot);
    const given = Buffer.from(raw.slice(dot + 1), 'base64url');
    if (given.length !== SIGNATURE_BYTES || !timingSafeEqual(given, this.sign(payload, userId))) {
      throw new InvalidCursorError('cursor is not valid for this user');
    }
    let fields: unknown;
    try {
      fields = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
    } catch {
      throw new InvalidCursorError('cursor is malformed');
    }
    if (
      !Array.isArray(fields) ||
      (fields.length !== 3 && fields.length !== 4) ||
      typeof fields[0] !== 'string' ||
      !fields.slice(1, 3).every((n) => Number.isSafeInteger(n) && n >= 0) ||
      (fields.length === 4 && !isIdList(fields[3]))
    ) {
      throw new InvalidCursorError('cursor is malformed');
    }
    const [session, offset, issuedAt, served = []] = fields as [string, number, number, string[]?];
    if (now - issuedAt > this.ttlMs) throw new InvalidCursorError('cursor has expired: start a new feed session');
    return { session, offset, issuedAt, served };
  }

  private sign(payload: string, userId: string): Buffer {
    return createHmac('sha256', this.key).update(userId).update('\0').update(payload).digest().subarray(0, SIGNATURE_BYTES);
  }
}

function isIdList(value: unknown): value is string[] {
  return Array.isArray(value) && value.length <= CURSOR_SERVED_MAX && value.every((id) => typeof id === 'string');
}
