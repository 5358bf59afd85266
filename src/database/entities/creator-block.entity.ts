import { CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';

@Entity('creator_blocks')
export class CreatorBlockEntity {
  @PrimaryColumn('text', { name: 'user_id' })
  userId: string;

  @PrimaryColumn('text', { name: 'creator_id' })
  creatorId: string;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}
