import { FeedExplanation } from './explain/feed-explainer';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform, Type } from 'class-transformer';
import { ArrayMaxSize, IsArray, IsBoolean, IsInt, IsOptional, IsString, Matches, Max, MaxLength, Min } from 'class-validator';
import { FastValidation } from '../common/validation';

export const VIDEO_ID_PATTERN = /^[A-Za-z0-9_:.-]{1,64}$/;
export const EXCLUDE_MAX = 200;

const splitIds = ({ value }: { value: unknown }) => {
  const parts = (Array.isArray(value) ? value : [value]).flatMap((v) => (typeof v === 'string' ? v.split(',') : [v]));
  return parts.map((v) => (typeof v === 'string' ? v.trim() : v)).filter((v) => v !== '');
};

// A cursor carries the ids of the page that issued it: up to 50 ids of up to 64 characters.
const CURSOR_MAX_LENGTH = 6144;
const CURSOR_PATTERN = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

/**
 * The feed query as the fast path takes it (see FastValidation): a page size written
 * plainly and a cursor; `exclude` and `explain` go to class-validator.
 */
@FastValidation(
  {
    type: 'object',
    additionalProperties: false,
    properties: {
      limit: { type: 'string', pattern: '^([1-9]|[1-4][0-9]|50)$' },
      cursor: { type: 'string', maxLength: CURSOR_MAX_LENGTH, pattern: CURSOR_PATTERN.source },
    },
  },
  { transform: true },
)
export class FeedQueryDto {
  @ApiPropertyOptional({ minimum: 1, maximum: 50, default: 20, example: 20 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(50)
  limit: number = 20;

  @ApiPropertyOptional({ description: 'nextCursor of the previous page; omit to start a new session', example: 'WyJfNGNRbm01eGpWLWtKMUFqIiwwLDE3OTYyODg1MzI1Mzdd.3RUfnzTmbmfkbvYZZOn9Rg' })
  @IsOptional()
  @IsString()
  @MaxLength(CURSOR_MAX_LENGTH)
  @Matches(CURSOR_PATTERN, { message: 'cursor must be a nextCursor returned by this endpoint' })
  cursor?: string;

  @ApiPropertyOptional({ description: `comma-separated video ids not to show (at most ${EXCLUDE_MAX})`, type: String, example: 'v_0000840,v_0002880' })
  @IsOptional()
  @Transform(splitIds)
  @IsArray()
  @ArrayMaxSize(EXCLUDE_MAX)
  @Matches(VIDEO_ID_PATTERN, { each: true, message: 'exclude must hold video ids (1-64 chars of A-Z a-z 0-9 _ : . -)' })
  exclude: string[] = [];

  @ApiPropertyOptional({
    description:
      'admin (x-api-key) or DEMO_MODE only: add `explain` to the answer: per item every source that found it, the model version, ' +
      'each head and the blended score, the features, the rerank decision; and every candidate dropped with the reason',
    type: Boolean,
  })
  @IsOptional()
  @Transform(({ value }: { value: unknown }) => (value === 'true' || value === '1' ? true : value === 'false' || value === '0' ? false : value))
  @IsBoolean({ message: 'explain must be true or false' })
  explain?: boolean;
}

export class FeedItemDto {
  @ApiProperty({ example: 'v_0000840' }) videoId: string;
  @ApiProperty({ example: 'c_000135' }) creatorId: string;
  @ApiProperty({ example: 'dance' }) category: string;
  @ApiProperty({ example: 'Bold routine #840' }) title: string;
  @ApiProperty({ example: 56003 }) durationMs: number;
  @ApiProperty({ description: 'ranking score (blend of the model heads)', example: 0.0216 }) score: number;
  @ApiProperty({ description: 'candidate source credited with it (the first registered source that found it): i2i, ann, trending, popular_30d, popular, category, followed, fresh, exploration', example: 'trending' })
  source: string;
}

export class FeedResponseDto {
  @ApiProperty({ description: 'send it back with events (requestId) to attribute engagement', example: 'a35d0302-b0f2-4510-8ad2-a654817c5226' })
  requestId: string;
  @ApiProperty({ type: [FeedItemDto] }) items: FeedItemDto[];
  @ApiProperty({ description: 'opaque; pass as `cursor` for the next page of this session', example: 'WyJfNGNRbm01eGpWLWtKMUFqIiwwLDE3OTYyODg1MzI1Mzdd.3RUfnzTmbmfkbvYZZOn9Rg' })
  nextCursor: string;
  @ApiPropertyOptional({ description: 'only with explain=true: why each item was served and what was dropped (see FeedExplanation)', type: Object })
  explain?: FeedExplanation;
}
