import { Body, Controller, Get, HttpCode, HttpStatus, Post, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiResponse, ApiTags } from '@nestjs/swagger';
import { CurrentUser } from '../auth/current-user.decorator';
import { JwtAuthGuard } from '../auth/jwt-auth.guard';
import { IngestEventsDto, IngestEventsResponseDto } from './dto/ingest-events.dto';
import { EventIngestService } from './event-ingest.service';
import { UserFeaturesResponse, UserFeaturesService } from './user-features.service';

@ApiTags('events')
@ApiBearerAuth()
@UseGuards(JwtAuthGuard)
@Controller('v1')
export class EventsController {
  constructor(
    private readonly ingest: EventIngestService,
    private readonly features: UserFeaturesService,
  ) {}

  /** Accepts a batch of the caller's events; 202 once they are queued. */
  @Post('events')
  @HttpCode(HttpStatus.ACCEPTED)
  @ApiResponse({ status: 202, type: IngestEventsResponseDto })
  @ApiResponse({ status: 400, description: 'Invalid events; the message names each failing field (e.g. events.3.type)' })
  @ApiResponse({ status: 413, description: 'Body larger than the limit' })
  @ApiResponse({ status: 503, description: 'Events could not be queued; nothing was accepted, retry' })
  postEvents(@CurrentUser() userId: string, @Body() body: IngestEventsDto): Promise<IngestEventsResponseDto> {
    return this.ingest.ingest(userId, body.events);
  }

  /** The caller's online features (debugging, demo): reflects accepted events within the freshness target. */
  @Get('me/features')
  @ApiOkResponse({ description: "The caller's online state, derived features and freshness" })
  getFeatures(@CurrentUser() userId: string): Promise<UserFeaturesResponse> {
    return this.features.get(userId);
  }
}
