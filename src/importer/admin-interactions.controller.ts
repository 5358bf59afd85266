import { BadRequestException, Body, Controller, HttpCode, Post, UseGuards } from '@nestjs/common';
import { ApiBody, ApiOkResponse, ApiOperation, ApiSecurity, ApiTags } from '@nestjs/swagger';
import { AdminApiKeyGuard } from '../auth/admin-api-key.guard';
import { AppConfig } from '../config/app-config';
import { ImportHistoryDto, ImportHistoryResponseDto } from './admin-interactions.dto';
import { EventRecord, toEventRecord } from './import-records';
import { ImporterService } from './importer.service';

@ApiTags('admin')
@ApiSecurity('admin')
@Controller('v1/admin/interactions')
@UseGuards(AdminApiKeyGuard)
export class AdminInteractionsController {
  constructor(
    private readonly importer: ImporterService,
    private readonly config: AppConfig,
  ) {}

  /**
   * Historical events straight into the interaction log, as `npm run import` writes them
   * (same checks, idempotent by user and event id, all or nothing). They reach the online
   * state at the next replay and the models at the next training run.
   */
  @Post()
  @HttpCode(200)
  @ApiOperation({
    summary: 'Append historical events to the interaction log',
    description:
      'For streaming a history over HTTP instead of npm run import: the same checks, idempotent by user and event id, all or nothing. The events reach the online state at the next replay and the models at the next training run.',
  })
  @ApiBody({
    type: ImportHistoryDto,
    examples: {
      history: {
        value: {
          events: [
            { eventId: 'e-1', userId: 'u_42', videoId: 'v_0000840', type: 'view', occurredAt: '2018-05-01T12:00:00Z', watchMs: 41000 },
            { eventId: 'e-2', userId: 'u_42', videoId: 'v_0000840', type: 'like', occurredAt: '2018-05-01T12:00:41Z' },
          ],
        },
      },
    },
  })
  @ApiOkResponse({ type: ImportHistoryResponseDto, example: { inserted: 2, duplicates: 0 } })
  async append(@Body() body: ImportHistoryDto): Promise<ImportHistoryResponseDto> {
    const now = Date.now();
    const problems: string[] = [];
    const events: EventRecord[] = [];
    body.events.forEach((raw, i) => {
      const event = toEventRecord(raw as unknown as Record<string, unknown>, now);
      if (typeof event === 'string') problems.push(`events.${i}: ${event}`);
      else events.push(event);
    });
    if (problems.length > 0) throw new BadRequestException(problems);
    return this.importer.appendHistory(events);
  }
}
