import { BullModule } from '@nestjs/bullmq';
import { Module } from '@nestjs/common';
import { CatalogModule } from '../catalog/catalog.module';
import { QueueName } from '../queue/queue.types';
import { AcceptedEventsRepository } from './accepted-events.repository';
import { EventQueuesRepository } from './event-queues.repository';
import { eventsRedisProvider, EventsRedisLifecycle } from './events-redis';
import { FollowsRepository } from './follows.repository';
import { InteractionLogRepository } from './interaction-log.repository';
import { OnlineStateRepository } from './online-state.repository';
import { ReconcileService } from './reconcile.service';
import { ReplayService } from './replay.service';
import { UserFeaturesService } from './user-features.service';
import { VideoStatsChangesPublisher } from './video-stats-changes.publisher';

const PROVIDERS = [
  AcceptedEventsRepository,
  EventQueuesRepository,
  OnlineStateRepository,
  InteractionLogRepository,
  FollowsRepository,
  ReplayService,
  ReconcileService,
  UserFeaturesService,
  VideoStatsChangesPublisher,
];

/**
 * The event pipeline's shared providers (repositories, services, queues). The api adds
 * the controller (EventsApiModule), the worker the processors (EventsWorkerModule), the
 * replay and dead-letter commands use it as is.
 */
const QUEUES = BullModule.registerQueue({ name: QueueName.Events });

@Module({
  imports: [CatalogModule, QUEUES],
  providers: [eventsRedisProvider, EventsRedisLifecycle, ...PROVIDERS],
  exports: [CatalogModule, QUEUES, ...PROVIDERS],
})
export class EventsModule {}
