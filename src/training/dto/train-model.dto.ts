import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsNumber, IsOptional, Max, Min } from 'class-validator';

export class TrainModelDto {
  @ApiPropertyOptional({ description: 'Hours of log to train on (default RETRAIN_WINDOW_HOURS)', example: 24 })
  @IsOptional() @IsNumber() @Min(0.1) @Max(24 * 365)
  windowHours?: number;

  @ApiPropertyOptional({ description: 'Activate the model if it beats the active one (default MODEL_AUTO_PROMOTE)' })
  @IsOptional() @IsBoolean()
  autoPromote?: boolean;
}
