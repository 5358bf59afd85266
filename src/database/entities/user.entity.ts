import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';

@Entity('users')
export class UserEntity {
  @PrimaryColumn('text')
  id: string;

  @Column('text', { name: 'display_name' })
  displayName: string;

  /** Hidden preferences of a simulated (seeded) user; null for real users. Never read by the recommender. */
  @Column('jsonb', { name: 'sim_traits', nullable: true })
  simTraits: { topicWeights: number[] } | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}
