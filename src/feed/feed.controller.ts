import { Controller, Get, Query, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CurrentUser } from '../auth/current-user.decorator';
import { JwtAuthGuard } from '../auth/jwt-auth.guard';
import { ExplainAccessGuard } from './explain/explain-access.guard';
import { FeedQueryDto, FeedResponseDto } from './feed.dto';
import { FeedService } from './feed.service';

@ApiTags('feed')
@ApiBearerAuth()
@Controller('v1/feed')
@UseGuards(JwtAuthGuard)
export class FeedController {
  constructor(private readonly feed: FeedService) {}

  /** The next page of the caller's feed: never repeats an item within a session, never shows watched videos. */
  @Get()
  @ApiOperation({
    summary: "The next page of the caller's feed",
    description:
      'Ranked for the token subject. Pass `nextCursor` back as `cursor` for the next page of the same session: pages never repeat an item within a session, and watched videos are not served again.',
  })
  @UseGuards(ExplainAccessGuard)
  @ApiOkResponse({ type: FeedResponseDto })
  get(@CurrentUser() userId: string, @Query() query: FeedQueryDto): Promise<FeedResponseDto> {
    return this.feed.feed(userId, { limit: query.limit, cursor: query.cursor, exclude: query.exclude, explain: query.explain === true });
  }
}
