import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';

@Entity('creators')
export class CreatorEntity {
  @PrimaryColumn('text')
  id: string;

  @Column('text')
  name: string;

  @Column('text', { name: 'main_category' })
  mainCategory: string;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}
