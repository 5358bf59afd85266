import { CreateDateColumn, Entity, Index, PrimaryColumn } from 'typeorm';

@Entity('follows')
@Index('idx_follows_creator', ['creatorId'])
export class FollowEntity {
  @PrimaryColumn('text', { name: 'user_id' })
  userId: string;

  @PrimaryColumn('text', { name: 'creator_id' })
  creatorId: string;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}
