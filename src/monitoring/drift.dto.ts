import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, Max, Min } from 'class-validator';
import { DriftPsi, DriftReference, DriftReportEntity, DriftReportStatus } from '../database/entities';

export class DriftQueryDto {
  @ApiPropertyOptional({ default: 1, minimum: 1, maximum: 100, description: 'How many reports, newest first' })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(100)
  limit = 1;
}

export interface DriftReportResponse {
  id: string;
  modelVersion: string | null;
  computedAt: string;
  windowStart: string | null;
  status: DriftReportStatus;
  reason: string | null;
  sampleSize: number;
  psi: DriftPsi;
  maxPsi: number | null;
  threshold: number | null;
  alert: boolean;
  /** What `psi` compares the window with: live (the model's reference window of live traffic), pending (none yet), training (older reports). */
  reference: DriftReference;
  referenceCapturedAt: string | null;
  /** Training-serving skew: PSI against the model's training baseline; never alerts. */
  skewPsi: DriftPsi | null;
  maxSkewPsi: number | null;
}

export function toDriftReportResponse(r: DriftReportEntity): DriftReportResponse {
  return {
    id: r.id,
    modelVersion: r.modelVersion,
    computedAt: r.computedAt.toISOString(),
    windowStart: r.windowStart?.toISOString() ?? null,
    status: r.status,
    reason: r.reason,
    sampleSize: r.sampleSize,
    psi: r.psi,
    maxPsi: r.maxPsi,
    threshold: r.threshold,
    alert: r.alert,
    reference: r.reference,
    referenceCapturedAt: r.referenceCapturedAt?.toISOString() ?? null,
    skewPsi: r.skewPsi,
    maxSkewPsi: r.maxSkewPsi,
  };
}
