import { Module } from '@nestjs/common';
import { CatalogModule } from '../catalog/catalog.module';
import { EventQueueShards } from '../queue/event-queue-shards';
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
  EventQueueShards,
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
@Module({
  imports: [CatalogModule],
  providers: [eventsRedisProvider, EventsRedisLifecycle, ...PROVIDERS],
  exports: [CatalogModule, ...PROVIDERS],
})
export class EventsModule {}
