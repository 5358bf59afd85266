import { IsTimestamp } from '../common/validation';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsIn, IsInt, IsOptional, IsString, Length, Matches, Max, Min, ValidateNested } from 'class-validator';
import { ADMIN_ID_PATTERN } from '../catalog/admin-videos.dto';
import { EVENT_TYPES, EventType } from '../events/event-types';

export const HISTORY_BATCH_MAX = 5000;

export class HistoricalEventDto {
  @ApiPropertyOptional({ description: 'unique per user; resending it is a no-op. Omitted: derived from the content', maxLength: 128 })
  @IsOptional()
  @IsString()
  @Length(1, 128)
  eventId?: string;

  @ApiProperty({ description: 'created if it does not exist yet', example: 'u_42' })
  @Matches(ADMIN_ID_PATTERN, { message: 'userId must be 1-64 chars of A-Z a-z 0-9 _ : . -' })
  userId: string;

  @ApiProperty({ description: 'must be in the catalog' })
  @Matches(ADMIN_ID_PATTERN, { message: 'videoId must be 1-64 chars of A-Z a-z 0-9 _ : . -' })
  videoId: string;

  @ApiProperty({ enum: EVENT_TYPES })
  @IsIn(EVENT_TYPES)
  type: EventType;

  @ApiProperty({ description: 'when it happened (RFC 3339 with an offset, or a date); any time from TIMESTAMP_MIN on', example: '2018-05-01T12:00:00Z' })
  @IsTimestamp()
  occurredAt: string;

  @ApiPropertyOptional({ minimum: 0 })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(86_400_000)
  watchMs?: number;
}

export class ImportHistoryDto {
  @ApiProperty({ type: [HistoricalEventDto], minItems: 1, maxItems: HISTORY_BATCH_MAX })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(HISTORY_BATCH_MAX)
  @ValidateNested({ each: true })
  @Type(() => HistoricalEventDto)
  events: HistoricalEventDto[];
}

export class ImportHistoryResponseDto {
  @ApiProperty({ description: 'events written to the interaction log' }) inserted: number;
  @ApiProperty({ description: 'events already logged (same user and event id) or repeated in the batch' }) duplicates: number;
}
