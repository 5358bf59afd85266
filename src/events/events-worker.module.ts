import { Module } from '@nestjs/common';
import { ApplyEventsProcessor } from './apply-events.processor';
import { EventApplierService } from './event-applier.service';
import { EventsModule } from './events.module';
import { PipelineMetrics } from './events.metrics';
import { InteractionLogWriter } from './interaction-log.writer';

/** The worker side of the event pipeline: the events queue's processor. */
@Module({
  imports: [EventsModule],
  providers: [PipelineMetrics, EventApplierService, InteractionLogWriter, ApplyEventsProcessor],
})
export class EventsWorkerModule {}
