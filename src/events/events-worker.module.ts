import { Module } from '@nestjs/common';
import { AppendLogProcessor } from './append-log.processor';
import { ApplyEventsProcessor } from './apply-events.processor';
import { EventApplierService } from './event-applier.service';
import { EventsModule } from './events.module';
import { PipelineMetrics } from './events.metrics';

/** The worker side of the event pipeline: the processors of the events and interactions queues. */
@Module({
  imports: [EventsModule],
  providers: [PipelineMetrics, EventApplierService, ApplyEventsProcessor, AppendLogProcessor],
})
export class EventsWorkerModule {}
