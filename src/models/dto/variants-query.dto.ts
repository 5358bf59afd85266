import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsNumber, IsOptional, Max, Min } from 'class-validator';

export class VariantsQueryDto {
  @ApiPropertyOptional({ description: 'Report on impressions served in the last N hours', default: 24 })
  @IsOptional() @Type(() => Number) @IsNumber() @Min(0.1) @Max(24 * 90)
  hours?: number;
}
