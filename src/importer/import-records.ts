import { hash } from 'node:crypto';
import { ADMIN_ID_PATTERN } from '../catalog/admin-videos.dto';
import { EVENT_TYPES, EventType } from '../events/event-types';
import { parseImportTime } from './import-time';

/** One catalog row, validated. */
export interface VideoRecord {
  id: string;
  creatorId: string;
  title: string;
  category: string;
  tags: string[];
  durationMs: number;
  /** Epoch ms; null: the video's first imported event (else the import time). */
  createdAt: number | null;
}

/** One history row, validated. */
export interface EventRecord {
  eventId: string;
  userId: string;
  videoId: string;
  type: EventType;
  watchMs: number | null;
  /** Epoch ms. */
  occurredAt: number;
}

/** What a reader makes of one line of a file: its records (all or nothing), or why it was rejected. */
export type RowResult<T> = { file: string; line: number; records: T[] } | { file: string; line: number; error: string };

export const CATEGORY_PATTERN = /^[a-z0-9_-]{1,64}$/;
const MAX_DURATION_MS = 24 * 3_600_000;
const MAX_WATCH_MS = 86_400_000;
const MAX_TAGS = 32;
const EVENT_TYPE_SET: ReadonlySet<string> = new Set(EVENT_TYPES);

/** Invalid row: the message names the field and what is wrong with it. */
class RowError extends Error {}

function id(raw: Record<string, unknown>, field: string): string {
  const v = raw[field];
  const s = typeof v === 'number' && Number.isInteger(v) ? String(v) : v;
  if (typeof s !== 'string' || !ADMIN_ID_PATTERN.test(s)) throw new RowError(`${field} must be 1-64 chars of A-Z a-z 0-9 _ : . - (got ${show(v)})`);
  return s;
}

function optional(raw: Record<string, unknown>, field: string): unknown {
  const v = raw[field];
  return v === undefined || v === null || v === '' ? undefined : v;
}

function integer(v: unknown, field: string, min: number, max: number): number {
  const n = typeof v === 'string' && /^-?\d+$/.test(v) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max) {
    throw new RowError(`${field} must be an integer from ${min} to ${max} (got ${show(v)})`);
  }
  return n;
}

function show(v: unknown): string {
  const s = v === undefined ? 'nothing' : JSON.stringify(v);
  return s.length > 40 ? `${s.slice(0, 37)}...` : s;
}

function tags(v: unknown): string[] {
  if (v === undefined) return [];
  const list = Array.isArray(v) ? v : typeof v === 'string' ? v.split('|') : null;
  if (!list || list.length > MAX_TAGS || list.some((t) => typeof t !== 'string' || t.length < 1 || t.length > 64)) {
    throw new RowError(`tags must be at most ${MAX_TAGS} strings of 1-64 chars (an array, or separated by | in CSV)`);
  }
  return list as string[];
}

function guard<T>(build: () => T): T | string {
  try {
    return build();
  } catch (err) {
    if (err instanceof RowError) return err.message;
    throw err;
  }
}

/** A catalog row from its fields (JSON values or CSV strings), or the reason it is rejected. */
export function toVideoRecord(raw: Record<string, unknown>, now: number): VideoRecord | string {
  return guard(() => {
    const videoId = id(raw, 'id');
    const category = raw.category;
    if (typeof category !== 'string' || !CATEGORY_PATTERN.test(category)) {
      throw new RowError(`category must be 1-64 chars of a-z 0-9 _ - (got ${show(category)})`);
    }
    const title = optional(raw, 'title') ?? videoId;
    if (typeof title !== 'string' || title.length > 300) throw new RowError('title must be a string of at most 300 chars');
    const created = optional(raw, 'createdAt');
    const createdAt = created === undefined ? null : parseImportTime(created, now);
    if (createdAt === null && created !== undefined) throw new RowError(`createdAt must be an ISO 8601 time or epoch s/ms, not in the future (got ${show(created)})`);
    return {
      id: videoId,
      creatorId: id(raw, 'creatorId'),
      title,
      category,
      tags: tags(optional(raw, 'tags')),
      durationMs: integer(raw.durationMs, 'durationMs', 1, MAX_DURATION_MS),
      createdAt,
    };
  });
}

/** A history row from its fields, or the reason it is rejected; without an eventId it gets one from its content. */
export function toEventRecord(raw: Record<string, unknown>, now: number): EventRecord | string {
  return guard(() => {
    const userId = id(raw, 'userId');
    const videoId = id(raw, 'videoId');
    const type = raw.type;
    if (typeof type !== 'string' || !EVENT_TYPE_SET.has(type)) throw new RowError(`type must be one of ${EVENT_TYPES.join(', ')} (got ${show(type)})`);
    const occurredAt = parseImportTime(raw.occurredAt, now);
    if (occurredAt === null) throw new RowError(`occurredAt must be an ISO 8601 time or epoch s/ms, not in the future (got ${show(raw.occurredAt)})`);
    const watch = optional(raw, 'watchMs');
    const watchMs = watch === undefined ? null : integer(watch, 'watchMs', 0, MAX_WATCH_MS);
    const given = optional(raw, 'eventId');
    if (given !== undefined && (typeof given !== 'string' || given.length > 128)) throw new RowError('eventId must be a string of 1-128 chars');
    const event = { eventId: '', userId, videoId, type: type as EventType, watchMs, occurredAt };
    event.eventId = (given as string | undefined) ?? contentEventId(event);
    return event;
  });
}

/** The id of an event that came without one: the same row always gets the same id, so re-importing it adds nothing. */
export function contentEventId(e: Omit<EventRecord, 'eventId'>): string {
  const content = `${e.userId}\t${e.videoId}\t${e.type}\t${e.occurredAt}\t${e.watchMs ?? ''}`;
  return `h:${hash('sha1', content, 'base64url').slice(0, 22)}`;
}
