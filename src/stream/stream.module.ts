import { Module } from '@nestjs/common';
import { CoreModule } from '../app/core.module';
import { EventIngestService } from '../events/event-ingest.service';
import { EventsModule } from '../events/events.module';
import { IngestMetrics } from '../events/events.metrics';
import { LoggingModule } from '../logging/logging.module';
import { MetricsServer } from '../metrics/metrics-server';
import { StreamController } from './stream.controller';
import { StreamIngestService } from './stream-ingest.service';
import { StreamMetrics } from './stream.metrics';

/** The `stream` process: a broker consumer over the same ingest path as POST /v1/events, no HTTP but /metrics. */
@Module({
  imports: [CoreModule, LoggingModule.forProcess('stream'), EventsModule],
  controllers: [StreamController],
  providers: [EventIngestService, IngestMetrics, StreamIngestService, StreamMetrics, MetricsServer],
})
export class StreamModule {}
