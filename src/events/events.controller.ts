import { Body, Controller, Get, HttpCode, HttpStatus, Post, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { CurrentUser } from '../auth/current-user.decorator';
import { JwtAuthGuard } from '../auth/jwt-auth.guard';
import { IngestEventsDto, IngestEventsResponseDto } from './dto/ingest-events.dto';
import { EventIngestService } from './event-ingest.service';
import { UserFeaturesResponse, UserFeaturesService } from './user-features.service';

const counts = (over: Partial<Record<string, number>>) => ({ impression: 0, view: 0, like: 0, unlike: 0, share: 0, comment: 0, skip: 0, complete: 0, follow: 0, unfollow: 0, ...over });
const USER_FEATURES_EXAMPLE = {
  userId: 'u_42',
  eventsApplied: 3,
  lastEventAt: '2026-12-03T09:02:14.120Z',
  counts: counts({ impression: 1, view: 1, like: 1 }),
  recent1h: counts({ impression: 1, view: 1, like: 1 }),
  recent24h: counts({ impression: 1, view: 1, like: 1 }),
  features: { user_views_log: 0.693, user_likes_log: 0.693, user_like_rate: 0.55, user_skip_rate: 0.2, user_complete_rate: 0.15 },
  watchMs: 12000,
  categoryAffinity: { dance: 1.4 },
  creatorAffinity: { c_000135: 1.4 },
  follows: [],
  embedding: [0.12, -0.05, 0.31],
  seenCount: 1,
  freshness: { acceptedAt: '2026-12-03T09:02:14.130Z', appliedAt: '2026-12-03T09:02:14.133Z', lagMs: 3, pipeline: { lagMs: 2, at: '2026-12-03T09:02:14.900Z' } },
  computedAt: '2026-12-03T09:02:15.002Z',
};

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
  @ApiOperation({
    summary: "Record the caller's events (views, likes, skips, ...)",
    description:
      'At most EVENTS_MAX_BATCH (500) events per call; the user is the token subject. Answered 202 once queued; the next feed reflects them. Resending an eventId is a no-op (counted in duplicates).',
  })
  @ApiResponse({ status: 202, type: IngestEventsResponseDto })
  @ApiResponse({ status: 400, description: 'Invalid events; the message names each failing field (e.g. events.3.type)' })
  @ApiResponse({ status: 413, description: 'Body larger than the limit' })
  @ApiResponse({ status: 503, description: 'Events could not be queued; nothing was accepted, retry' })
  postEvents(@CurrentUser() userId: string, @Body() body: IngestEventsDto): Promise<IngestEventsResponseDto> {
    return this.ingest.ingest(userId, body.events);
  }

  /** The caller's online features (debugging, demo): reflects accepted events within the freshness target. */
  @Get('me/features')
  @ApiOperation({ summary: "The caller's online features", description: 'Counts, affinities, embedding and event freshness as ranking sees them; for debugging and the demo.' })
  @ApiOkResponse({ description: "The caller's online state, derived features and freshness", example: USER_FEATURES_EXAMPLE })
  getFeatures(@CurrentUser() userId: string): Promise<UserFeaturesResponse> {
    return this.features.get(userId);
  }
}
