import { BullModule } from '@nestjs/bullmq';
import { Module } from '@nestjs/common';
import { ModelsModule } from '../models/models.module';
import { FollowsRepository } from '../events/follows.repository';
import { QueueName } from '../queue/queue.types';
import { TrainingLogRepository } from './data/training-log.repository';
import { LearnedEmbeddingRepository } from './embeddings/learned-embedding.repository';
import { ItemNeighboursRepository } from '../neighbours/item-neighbours.repository';
import { SequenceModelRepository } from '../sequence/sequence-model.repository';
import { TrainingQueueService } from './training-queue.service';
import { TrainingService } from './training.service';

/** The model loop's providers: dataset, embeddings, trainer, registry access and the training queue producer. */
@Module({
  imports: [ModelsModule, BullModule.registerQueue({ name: QueueName.Training })],
  providers: [FollowsRepository, TrainingLogRepository, LearnedEmbeddingRepository, ItemNeighboursRepository, SequenceModelRepository, TrainingService, TrainingQueueService],
  exports: [ModelsModule, TrainingService, TrainingQueueService],
})
export class TrainingModule {}
