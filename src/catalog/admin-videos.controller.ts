import { Body, Controller, Delete, HttpCode, Param, Post, Put, UseGuards } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiSecurity, ApiTags } from '@nestjs/swagger';
import { AdminApiKeyGuard } from '../auth/admin-api-key.guard';
import { TakedownResponseDto, UpsertVideosDto, UpsertVideosResponseDto, VideoIdParamDto } from './admin-videos.dto';
import { CatalogAdminService } from './catalog-admin.service';

@ApiTags('admin')
@ApiSecurity('admin')
@Controller('v1/admin/videos')
@UseGuards(AdminApiKeyGuard)
export class AdminVideosController {
  constructor(private readonly admin: CatalogAdminService) {}

  /** Bulk upsert (at most 1000 videos): creates new videos, updates existing ones. */
  @Post()
  @HttpCode(200)
  @ApiOperation({ summary: 'Upsert videos (at most 1,000)', description: 'Creates new videos and updates existing ones; unknown creators are created. Every api instance sees the change within moments.' })
  @ApiOkResponse({ type: UpsertVideosResponseDto })
  create(@Body() body: UpsertVideosDto): Promise<UpsertVideosResponseDto> {
    return this.admin.upsert(body.videos);
  }

  /** Same as POST (idempotent bulk upsert). */
  @Put()
  @ApiOperation({ summary: 'Upsert videos (same as POST)' })
  @ApiOkResponse({ type: UpsertVideosResponseDto })
  replace(@Body() body: UpsertVideosDto): Promise<UpsertVideosResponseDto> {
    return this.admin.upsert(body.videos);
  }

  /** Takedown: the video stops being served by every api instance within moments. */
  @Delete(':id')
  @ApiOperation({ summary: 'Take a video down', description: 'It stops being served by every api instance within moments.' })
  @ApiOkResponse({ type: TakedownResponseDto })
  takeDown(@Param() params: VideoIdParamDto): Promise<TakedownResponseDto> {
    return this.admin.takeDown(params.id);
  }
}
