import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, Matches, Max, MaxLength, Min, MinLength } from 'class-validator';

export class ListDemoUsersQuery {
  @ApiPropertyOptional({ default: 24, minimum: 1, maximum: 200 })
  @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(200)
  limit = 24;
}

export class CreateDemoUserDto {
  @ApiProperty({ example: 'Ada' })
  @IsString() @MinLength(1) @MaxLength(40) @Matches(/\S/, { message: 'displayName must not be blank' })
  displayName: string;
}

export class NeighboursQuery {
  @ApiPropertyOptional({ default: 8, minimum: 1, maximum: 50 })
  @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(50)
  k = 8;
}

export interface DemoUserResponse {
  id: string;
  displayName: string;
  /** A seeded user with hidden preferences (the simulator's ground truth). */
  simulated: boolean;
  /** The seeded user's favourite topics, strongest first; empty for users created on the page. */
  tastes: string[];
}

export interface DemoNeighboursResponse {
  userId: string;
  hasEmbedding: boolean;
  videos: { videoId: string; title: string; category: string; creatorId: string; similarity: number }[];
  categories: { category: string; similarity: number }[];
}

export interface DemoStatusResponse {
  activeModel: { id: string; activatedAt: string | null; metrics: Record<string, unknown> } | null;
  catalog: { videos: number; withEmbedding: number };
}
