import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsBoolean, IsJSON, IsOptional, IsString, MaxLength } from 'class-validator';

/** Text fields of the multipart upload; the ONNX file itself is the `artifact` file field. */
export class RegisterModelDto {
  /** Read from the file part by the upload interceptor; listed so the form field passes whitelisting. */
  @ApiProperty({ type: 'string', format: 'binary', description: 'The ONNX model file' })
  @IsOptional()
  artifact?: unknown;

  @ApiProperty({
    description: 'Feature spec JSON: {"input","output","features":[registry names in column order],"heads":[...]}',
    example: '{"input":"features","output":"scores","features":["user_video_cosine","video_like_rate"],"heads":["like","skip"]}',
  })
  @IsString() @IsJSON() @MaxLength(100_000)
  featureSpec: string;

  @ApiPropertyOptional({ description: 'Metrics JSON measured by the exporting tool, stored as-is' })
  @IsOptional() @IsString() @IsJSON() @MaxLength(100_000)
  metrics?: string;

  @ApiPropertyOptional({ description: 'Activate right after registering (default false)' })
  @IsOptional() @Transform(({ value }) => (value === 'true' ? true : value === 'false' ? false : value)) @IsBoolean()
  activate?: boolean;
}
