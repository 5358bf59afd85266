import { DataSource } from 'typeorm';
import { CreatorEntity } from '../../src/database/entities';
import { uniqueId } from './sequence';

export function buildCreator(overrides: Partial<CreatorEntity> = {}): CreatorEntity {
  const id = overrides.id ?? uniqueId('c');
  return Object.assign(new CreatorEntity(), { id, name: `creator ${id}`, mainCategory: 'comedy' }, overrides);
}

export async function createCreator(dataSource: DataSource, overrides: Partial<CreatorEntity> = {}): Promise<CreatorEntity> {
  return dataSource.getRepository(CreatorEntity).save(buildCreator(overrides));
}
