import { Controller, Get, Query, UseGuards } from '@nestjs/common';
import { ApiSecurity, ApiTags } from '@nestjs/swagger';
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
  async latest(@Query() query: DriftQueryDto): Promise<{ reports: DriftReportResponse[] }> {
    return { reports: (await this.repository.latest(query.limit)).map(toDriftReportResponse) };
  }
}
