import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';
import { ModelVersionEntity, UserEntity } from '../database/entities';

export type ActiveModel = Pick<ModelVersionEntity, 'id' | 'activatedAt' | 'metrics' | 'createdAt'>;

/** Postgres reads and writes of the demo page: users to pick from, the active model. */
@Injectable()
export class DemoRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /** Users created on the demo page (newest first), then seeded users in id order. */
  async listUsers(limit: number): Promise<UserEntity[]> {
    return this.db
      .getRepository(UserEntity)
      .createQueryBuilder('u')
      .orderBy('(u.sim_traits IS NULL)', 'DESC')
      .addOrderBy('CASE WHEN u.sim_traits IS NULL THEN u.created_at END', 'DESC')
      .addOrderBy('u.id', 'ASC')
      .limit(limit)
      .getMany();
  }

  async createUser(displayName: string): Promise<UserEntity> {
    const repo = this.db.getRepository(UserEntity);
    return repo.save(repo.create({ id: `demo_${randomBytes(5).toString('hex')}`, displayName, simTraits: null }));
  }

  async activeModel(): Promise<ActiveModel | null> {
    return this.db.getRepository(ModelVersionEntity).findOne({
      select: { id: true, activatedAt: true, metrics: true, createdAt: true },
      where: { status: 'active' },
    });
  }
}
