import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsIn,
  IsInt,
  IsObject,
  IsOptional,
  IsString,
  Length,
  Max,
  Min,
  ValidateNested,
} from 'class-validator';
import { asciiId, FastValidation, IsTimestamp } from '../../common/validation';
import { EVENT_TYPES, EventType } from '../event-types';

/** The hard cap the DTO enforces; the configured EVENTS_MAX_BATCH (at most this) is checked by the service. */
export const EVENTS_BATCH_HARD_LIMIT = 10_000;
export const ID_MAX = 128;
const WATCH_MS_MAX = 86_400_000;

/** The events as the fast path takes them (see FastValidation): narrower than EventDto's rules, never wider. */
const FAST_EVENT = {
  type: 'object',
  required: ['eventId', 'type', 'videoId'],
  additionalProperties: false,
  properties: {
    eventId: asciiId(ID_MAX),
    type: { type: 'string', enum: EVENT_TYPES },
    videoId: asciiId(ID_MAX),
    watchMs: { type: 'integer', minimum: 0, maximum: WATCH_MS_MAX },
    requestId: asciiId(ID_MAX),
    occurredAt: { type: 'string', format: 'reelrank-timestamp' },
  },
};
/** The batch's events as the fast path takes them: the schema of the body of POST /v1/events and of a stream message. */
export const FAST_EVENTS = { type: 'array', minItems: 1, maxItems: EVENTS_BATCH_HARD_LIMIT, items: FAST_EVENT };

export class EventDto {
  @ApiProperty({ description: 'Client-generated id, unique per user; resending it is a no-op', minLength: 1, maxLength: 128, example: '3f1c9a52-7d1e-4b8e-9a43-2f0c6d7e8b11' })
  @IsString()
  @Length(1, ID_MAX)
  eventId: string;

  @ApiProperty({ enum: EVENT_TYPES, example: 'like' })
  @IsIn(EVENT_TYPES)
  type: EventType;

  @ApiProperty({ minLength: 1, maxLength: 128, example: 'v_0000840' })
  @IsString()
  @Length(1, ID_MAX)
  videoId: string;

  @ApiPropertyOptional({ description: 'Milliseconds watched (view, skip)', minimum: 0, example: 12000 })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(WATCH_MS_MAX)
  watchMs?: number;

  @ApiPropertyOptional({ description: 'requestId of the feed response the video came from', example: 'a35d0302-b0f2-4510-8ad2-a654817c5226' })
  @IsOptional()
  @IsString()
  @Length(1, ID_MAX)
  requestId?: string;

  @ApiPropertyOptional({
    description: 'When it happened on the device (RFC 3339 with an offset); defaults to the time it was received',
    example: '2026-12-03T10:00:00Z',
  })
  @IsTimestamp({ optional: true })
  occurredAt?: string;
}

@FastValidation({ type: 'object', required: ['events'], additionalProperties: false, properties: { events: FAST_EVENTS } })
export class IngestEventsDto {
  @ApiProperty({ type: [EventDto], minItems: 1, maxItems: 500 })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(EVENTS_BATCH_HARD_LIMIT)
  @IsObject({ each: true })
  @ValidateNested({ each: true })
  @Type(() => EventDto)
  events: EventDto[];
}

export class IngestEventsResponseDto {
  @ApiProperty({ description: 'Events queued for processing', example: 1 })
  accepted: number;

  @ApiProperty({ description: 'Events ignored because their eventId was already accepted (earlier, or twice in this batch)', example: 0 })
  duplicates: number;
}
