import { DataSource } from 'typeorm';
import { UserEntity } from '../../src/database/entities';
import { uniqueId } from './sequence';

export function buildUser(overrides: Partial<UserEntity> = {}): UserEntity {
  const id = overrides.id ?? uniqueId('u');
  return Object.assign(new UserEntity(), { id, displayName: `user ${id}`, simTraits: null }, overrides);
}

export async function createUser(dataSource: DataSource, overrides: Partial<UserEntity> = {}): Promise<UserEntity> {
  return dataSource.getRepository(UserEntity).save(buildUser(overrides));
}
