import { CreatorBlockEntity } from './creator-block.entity';
import { CreatorEntity } from './creator.entity';
import { DriftReferenceEntity } from './drift-reference.entity';
import { DriftReportEntity } from './drift-report.entity';
import { FollowEntity } from './follow.entity';
import { ImpressionEntity } from './impression.entity';
import { InteractionEntity } from './interaction.entity';
import { ModelVersionEntity } from './model-version.entity';
import { UserEntity } from './user.entity';
import { VideoEntity } from './video.entity';

export * from './creator-block.entity';
export * from './creator.entity';
export * from './drift-reference.entity';
export * from './drift-report.entity';
export * from './follow.entity';
export * from './impression.entity';
export * from './interaction.entity';
export * from './model-version.entity';
export * from './user.entity';
export * from './video.entity';

export const ENTITIES = [
  UserEntity,
  CreatorEntity,
  VideoEntity,
  FollowEntity,
  CreatorBlockEntity,
  InteractionEntity,
  ImpressionEntity,
  ModelVersionEntity,
  DriftReportEntity,
  DriftReferenceEntity,
];
