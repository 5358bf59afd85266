import { contentEventId, toEventRecord, toVideoRecord } from './import-records';
import { parseImportTime } from './import-time';

const LATEST = Date.parse('2030-01-01T00:00:00Z');

describe('parseImportTime', () => {
  it('reads ISO 8601 (zone-less as UTC), epoch seconds and epoch milliseconds', () => {
    const at = Date.parse('2020-05-01T10:00:00Z');
    expect(parseImportTime('2020-05-01T10:00:00Z', LATEST)).toBe(at);
    expect(parseImportTime('2020-05-01T12:00:00+02:00', LATEST)).toBe(at);
    expect(parseImportTime('2020-05-01 10:00:00', LATEST)).toBe(at);
    expect(parseImportTime(at / 1000, LATEST)).toBe(at);
    expect(parseImportTime(String(at / 1000), LATEST)).toBe(at);
    expect(parseImportTime(at, LATEST)).toBe(at);
  });

  it('rejects what is not a time, and times after `latest`', () => {
    for (const bad of ['yesterday', '', '2020-13-45', null, {}, -5, '2031-01-01T00:00:00Z']) {
      expect(parseImportTime(bad, LATEST)).toBeNull();
    }
  });
});

describe('toEventRecord', () => {
  const row = { userId: 'u1', videoId: 'v1', type: 'like', occurredAt: '2020-05-01T10:00:00Z' };

  it('gives a row without an event id a deterministic one from its content', () => {
    const a = toEventRecord(row, LATEST);
    const b = toEventRecord({ ...row }, LATEST);
    const other = toEventRecord({ ...row, type: 'view' }, LATEST);
    expect(typeof a).toBe('object');
    expect(a).toEqual(b);
    expect((a as { eventId: string }).eventId).toBe(contentEventId({ ...row, type: 'like', watchMs: null, occurredAt: Date.parse(row.occurredAt) }));
    expect((other as { eventId: string }).eventId).not.toBe((a as { eventId: string }).eventId);
    expect(toEventRecord({ ...row, eventId: 'e-1', watchMs: '1500' }, LATEST)).toMatchObject({ eventId: 'e-1', watchMs: 1500 });
  });

  it('names the failing field of a bad row', () => {
    expect(toEventRecord({ ...row, type: 'poke' }, LATEST)).toMatch(/^type must be one of/);
    expect(toEventRecord({ ...row, userId: 'bad id' }, LATEST)).toMatch(/^userId must be/);
    expect(toEventRecord({ ...row, occurredAt: 'soon' }, LATEST)).toMatch(/^occurredAt must be/);
    expect(toEventRecord({ ...row, watchMs: -1 }, LATEST)).toMatch(/^watchMs must be an integer/);
    expect(toEventRecord({ ...row, videoId: undefined }, LATEST)).toMatch(/^videoId must be/);
  });
});

describe('toVideoRecord', () => {
  it('reads CSV strings and JSON values alike', () => {
    const csv = toVideoRecord({ id: 'v1', creatorId: 'c1', category: 'cooking', tags: 'pasta|quick', durationMs: '30000', createdAt: '' }, LATEST);
    expect(csv).toEqual({ id: 'v1', creatorId: 'c1', title: 'v1', category: 'cooking', tags: ['pasta', 'quick'], durationMs: 30000, createdAt: null });
    const json = toVideoRecord({ id: 'v1', creatorId: 'c1', category: 'cooking', tags: ['pasta'], durationMs: 30000, createdAt: 1600000000 }, LATEST);
    expect(json).toMatchObject({ tags: ['pasta'], createdAt: 1_600_000_000_000 });
  });

  it('rejects a bad category or duration', () => {
    expect(toVideoRecord({ id: 'v1', creatorId: 'c1', category: 'Cooking!', durationMs: 1 }, LATEST)).toMatch(/^category must be/);
    expect(toVideoRecord({ id: 'v1', creatorId: 'c1', category: 'cooking', durationMs: 0 }, LATEST)).toMatch(/^durationMs must be/);
  });
});
