import 'reflect-metadata';
import { BadRequestException, ValidationPipe } from '@nestjs/common';
import fc from 'fast-check';
import { FastPathValidationPipe, fastAccepts, VALIDATION_OPTIONS } from '../../common/validation';
import { StreamMessageDto } from '../../stream/stream-message.dto';
import { EVENT_TYPES } from '../event-types';
import { IngestEventsDto } from './ingest-events.dto';

const classValidator = new ValidationPipe(VALIDATION_OPTIONS);
const fastPath = new FastPathValidationPipe(VALIDATION_OPTIONS);

/** Whether class-validator (the api's rules, as the global pipe applies them) accepts the value. */
async function rulesAccept(dto: typeof IngestEventsDto, value: unknown): Promise<boolean> {
  try {
    await classValidator.transform(value, { type: 'body', metatype: dto });
    return true;
  } catch (err) {
    if (err instanceof BadRequestException) return false;
    throw err;
  }
}

const now = () => new Date().toISOString();
const event = (over: Record<string, unknown> = {}) => ({ eventId: 'e-1', type: 'view', videoId: 'v_0000840', watchMs: 12000, occurredAt: now(), ...over });

// Values near every rule's edges, and ones no rule expects.
const anyText = fc.oneof(
  fc.string({ minLength: 0, maxLength: 3 }),
  fc.string({ unit: 'grapheme', minLength: 1, maxLength: 140 }),
  fc.string({ unit: 'binary', minLength: 1, maxLength: 130 }),
  fc.constantFrom('\uFE0F', '\uD83D\uDE00'.repeat(65), 'a'.repeat(128), 'a'.repeat(129), ' a', 'v_1'),
);
const anyValue = fc.oneof(anyText, fc.integer(), fc.double(), fc.constant(null), fc.boolean(), fc.constant({}), fc.constant([]));
/** Mostly a well-formed value, sometimes one from `odd`: so most events hold one or two faults, and the fast path's edges are reached. */
const mostly = <T>(good: fc.Arbitrary<T>, odd: fc.Arbitrary<unknown>) => fc.oneof({ arbitrary: good, weight: 4 }, { arbitrary: odd, weight: 1 });
const absent = fc.constant(undefined);
const eventArb = fc
  .record({
    eventId: mostly(fc.uuid(), fc.oneof(anyText, anyValue, absent)),
    type: mostly(fc.constantFrom(...EVENT_TYPES), fc.oneof(anyText, anyValue, absent)),
    videoId: mostly(fc.stringMatching(/^v_[0-9]{1,7}$/), fc.oneof(anyText, anyValue, absent)),
    watchMs: mostly(fc.oneof(absent, fc.integer({ min: 0, max: 86_400_000 })), fc.oneof(fc.integer({ min: -5, max: 86_400_005 }), fc.double(), anyValue)),
    requestId: mostly(fc.oneof(absent, fc.uuid()), fc.oneof(anyText, anyValue)),
    occurredAt: mostly(
      fc.oneof(absent, fc.date({ min: new Date(Date.UTC(2020, 0, 1)), max: new Date(), noInvalidDate: true }).map((d) => d.toISOString())),
      fc.oneof(
        fc.date({ min: new Date(-1e13), max: new Date(Date.now() + 1e9), noInvalidDate: true }).map((d) => d.toISOString()),
        fc.constantFrom('2026-12-03', '2026-02-31', '2026-12-03T10:00:00', '2026-12-03T10:00:00+25:00', '9999-12-31T23:59:59Z'),
        anyValue,
      ),
    ),
    extra: mostly(absent, anyValue),
  })
  // A key holding undefined is absent (JSON has no undefined).
  .map((e) => Object.fromEntries(Object.entries(e).filter(([, v]) => v !== undefined)));

describe('the events fast path (FastValidation on IngestEventsDto and StreamMessageDto)', () => {
  it('accepts the batches clients send, as they are', async () => {
    const body = { events: [event(), event({ eventId: '3f1c9a52-7d1e-4b8e-9a43-2f0c6d7e8b11', type: 'like', requestId: 'a35d0302-b0f2' }), { eventId: 'x', type: 'skip', videoId: 'v_1' }] };
    expect(fastAccepts(IngestEventsDto, body)).toBe(true);
    expect(fastAccepts(StreamMessageDto, { userId: 'u_42', ...body })).toBe(true);
    await expect(fastPath.transform(body, { type: 'body', metatype: IngestEventsDto })).resolves.toBe(body);
  });

  it('leaves the rest to class-validator, which names the failing fields as before', async () => {
    const body = { events: [event(), event({ type: 'dance', watchMs: -1 })] };
    expect(fastAccepts(IngestEventsDto, body)).toBe(false);
    const refused = await fastPath.transform(body, { type: 'body', metatype: IngestEventsDto }).catch((err: BadRequestException) => err.getResponse());
    expect(JSON.stringify(refused)).toContain('events.1.type');
    expect(JSON.stringify(refused)).toContain('events.1.watchMs');
    // Accepted by the rules though not by the fast path (a space in an id): class-validator passes it.
    const spaced = { events: [event({ eventId: 'an id' })] };
    expect(fastAccepts(IngestEventsDto, spaced)).toBe(false);
    await expect(fastPath.transform(spaced, { type: 'body', metatype: IngestEventsDto })).resolves.toBeInstanceOf(IngestEventsDto);
  });

  it('never accepts what class-validator refuses (batches)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.record({ events: fc.array(eventArb, { maxLength: 3 }) }), fc.record({ events: anyValue, other: anyValue }, { requiredKeys: [] })), async (body) => {
        if (fastAccepts(IngestEventsDto, body)) expect(await rulesAccept(IngestEventsDto, body)).toBe(true);
      }),
      { numRuns: 3000 },
    );
  });

  it('never accepts what class-validator refuses (stream messages)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.record({ userId: fc.oneof(anyText, anyValue), events: fc.array(eventArb, { maxLength: 2 }) }, { requiredKeys: ['events'] }), async (message) => {
        if (fastAccepts(StreamMessageDto, message)) expect(await rulesAccept(StreamMessageDto, message)).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });

  it('takes the fast path for most well-formed events (the property above is not vacuous)', () => {
    const wellFormed = fc.sample(
      fc.record({
        eventId: fc.uuid(),
        type: fc.constantFrom(...EVENT_TYPES),
        videoId: fc.stringMatching(/^v_[0-9]{1,7}$/),
        watchMs: fc.integer({ min: 0, max: 86_400_000 }),
      }),
      200,
    );
    expect(wellFormed.filter((e) => fastAccepts(IngestEventsDto, { events: [e] }))).toHaveLength(200);
  });
});
