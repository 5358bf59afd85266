import { Body, Controller, Delete, HttpCode, Param, Post, Put, UseGuards } from '@nestjs/common';
import { ApiOkResponse, ApiSecurity, ApiTags } from '@nestjs/swagger';
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
  @ApiOkResponse({ type: UpsertVideosResponseDto })
  create(@Body() body: UpsertVideosDto): Promise<UpsertVideosResponseDto> {
    return this.admin.upsert(body.videos);
  }

  /** Same as POST (idempotent bulk upsert). */
  @Put()
  @ApiOkResponse({ type: UpsertVideosResponseDto })
  replace(@Body() body: UpsertVideosDto): Promise<UpsertVideosResponseDto> {
    return this.admin.upsert(body.videos);
  }

  /** Takedown: the video stops being served by every api instance within moments. */
  @Delete(':id')
  @ApiOkResponse({ type: TakedownResponseDto })
  takeDown(@Param() params: VideoIdParamDto): Promise<TakedownResponseDto> {
    return this.admin.takeDown(params.id);
  }
}
