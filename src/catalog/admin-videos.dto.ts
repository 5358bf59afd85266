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
  Matches,
  Max,
  Min,
  ValidateNested,
} from 'class-validator';
import { IsFloat32Array, IsTimestamp } from '../common/validation';
import { VideoStatus } from '../database/entities/video.entity';

export const ADMIN_ID_PATTERN = /^[A-Za-z0-9_:.-]{1,64}$/;
export const UPSERT_MAX = 1000;

export class AdminVideoDto {
  @ApiProperty({ example: 'v_0000001' })
  @Matches(ADMIN_ID_PATTERN, { message: 'id must be 1-64 chars of A-Z a-z 0-9 _ : . -' })
  id: string;

  @ApiProperty({ description: 'created (named after its id) if it does not exist yet', example: 'c_000001' })
  @Matches(ADMIN_ID_PATTERN, { message: 'creatorId must be 1-64 chars of A-Z a-z 0-9 _ : . -' })
  creatorId: string;

  @ApiProperty({ example: 'Ten-minute ramen' })
  @IsString()
  @Length(1, 300)
  title: string;

  @ApiProperty({ example: 'cooking' })
  @Matches(/^[a-z0-9_-]{1,64}$/, { message: 'category must be 1-64 chars of a-z 0-9 _ -' })
  category: string;

  @ApiPropertyOptional({ type: [String], example: ['cooking', 'quick'] })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(32)
  @IsString({ each: true })
  @Length(1, 64, { each: true })
  tags?: string[];

  @ApiProperty({ example: 42000 })
  @IsInt()
  @Min(1)
  @Max(24 * 3_600_000)
  durationMs: number;

  @ApiPropertyOptional({ type: [Number], description: 'content embedding of EMBEDDING_DIM floats; omitted keeps the stored one' })
  @IsOptional()
  @IsArray()
  @IsFloat32Array()
  embedding?: number[];

  @ApiPropertyOptional({ enum: ['active', 'taken_down'], description: 'omitted: active for a new video, unchanged otherwise' })
  @IsOptional()
  @IsIn(['active', 'taken_down'])
  status?: VideoStatus;

  @ApiPropertyOptional({ description: 'upload time (RFC 3339 with an offset) for imports; defaults to now', example: '2026-12-03T10:00:00Z' })
  @IsTimestamp({ optional: true })
  createdAt?: string;
}

export class UpsertVideosDto {
  @ApiProperty({ type: [AdminVideoDto], maxItems: UPSERT_MAX })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(UPSERT_MAX)
  @IsObject({ each: true })
  @ValidateNested({ each: true })
  @Type(() => AdminVideoDto)
  videos: AdminVideoDto[];
}

export class VideoIdParamDto {
  @Matches(ADMIN_ID_PATTERN, { message: 'id must be 1-64 chars of A-Z a-z 0-9 _ : . -' })
  id: string;
}

export class UpsertVideosResponseDto {
  @ApiProperty({ example: 1 }) created: number;
  @ApiProperty({ example: 0 }) updated: number;
}

export class TakedownResponseDto {
  @ApiProperty({ example: 'v_0000001' }) id: string;
  @ApiProperty({ enum: ['taken_down'], example: 'taken_down' }) status: VideoStatus;
}
