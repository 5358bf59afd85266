import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';
import { ModelVersionEntity, UserEntity } from '../database/entities';
import { REDIS } from '../redis/redis.constants';
import { AnyRedis } from '../redis/redis-connection';
import { RedisKeys } from '../redis/redis-keys';

export type ActiveModel = Pick<ModelVersionEntity, 'id' | 'activatedAt' | 'metrics' | 'createdAt'>;

/** Reads and writes of the demo page: users to pick from and the active model (Postgres), a user's online state (Redis). */
@Injectable()
export class DemoRepository {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(REDIS) private readonly redis: AnyRedis,
    private readonly keys: RedisKeys,
  ) {}

  /** The user's encoded online state, or null for a user with no events yet. */
  userState(userId: string): Promise<Buffer | null> {
    return this.redis.getBuffer(this.keys.userFeatures(userId));
  }

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
