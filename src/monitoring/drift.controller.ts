import { Controller, Get, Query, UseGuards } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiSecurity, ApiTags } from '@nestjs/swagger';
import { AdminApiKeyGuard } from '../auth/admin-api-key.guard';
import { DriftQueryDto, DriftReportResponse, toDriftReportResponse } from './drift.dto';
import { DriftRepository } from './drift.repository';

@ApiTags('admin')
@ApiSecurity('admin')
@UseGuards(AdminApiKeyGuard)
@Controller('v1/admin/drift')
export class DriftController {
  constructor(private readonly repository: DriftRepository) {}

  /** The latest drift reports, newest first (an empty list before the first check). */
  @Get()
  @ApiOperation({ summary: 'Latest drift reports', description: 'PSI of live traffic against the active model live reference window (its first window of served traffic), per feature and score head, which alone raises the alert; and the training-serving skew (PSI against its training baseline), reported only. Newest first, empty before the first check.' })
  @ApiOkResponse({
    description: 'Reports, newest first',
    example: {
      reports: [
        {
          id: '42',
          modelVersion: 'm-20261203T090032Z-fd9338',
          computedAt: '2026-12-03T09:31:48.437Z',
          windowStart: '2026-12-03T09:12:02.115Z',
          status: 'ok',
          reason: null,
          sampleSize: 1000,
          psi: { features: { user_activity_1h: 0.012, video_like_rate: 0.031 }, scores: { like: 0.018, skip: 0.022 } },
          maxPsi: 0.031,
          threshold: 0.2,
          alert: false,
          reference: 'live',
          referenceCapturedAt: '2026-12-03T09:12:02.114Z',
          skewPsi: { features: { user_activity_1h: 0.412, video_like_rate: 0.957 }, scores: { like: 0.231, skip: 0.118 } },
          maxSkewPsi: 0.957,
        },
      ],
    },
  })
  async latest(@Query() query: DriftQueryDto): Promise<{ reports: DriftReportResponse[] }> {
    return { reports: (await this.repository.latest(query.limit)).map(toDriftReportResponse) };
  }
}
