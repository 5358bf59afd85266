import { Module } from '@nestjs/common';
import { EventIngestService } from './event-ingest.service';
import { EventsController } from './events.controller';
import { EventsModule } from './events.module';
import { IngestMetrics } from './events.metrics';

/** The api side of the event pipeline: POST /v1/events and GET /v1/me/features. */
@Module({
  imports: [EventsModule],
  controllers: [EventsController],
  providers: [EventIngestService, IngestMetrics],
})
export class EventsApiModule {}
