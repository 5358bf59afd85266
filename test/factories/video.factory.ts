import { DataSource } from 'typeorm';
import { VideoEntity } from '../../src/database/entities';
import { createCreator } from './creator.factory';
import { uniqueId } from './sequence';

/** A video row; `creatorId` must name an existing creator before it is saved (createVideo makes one). */
export function buildVideo(overrides: Partial<VideoEntity> = {}): VideoEntity {
  const id = overrides.id ?? uniqueId('v');
  return Object.assign(
    new VideoEntity(),
    {
      id,
      creatorId: 'c_unset',
      title: `video ${id}`,
      category: 'comedy',
      tags: ['comedy'],
      durationMs: 15_000,
      embedding: null,
      status: 'active',
    },
    overrides,
  );
}

/** Saves a video, creating its creator first unless `creatorId` is given. */
export async function createVideo(dataSource: DataSource, overrides: Partial<VideoEntity> = {}): Promise<VideoEntity> {
  const creatorId = overrides.creatorId ?? (await createCreator(dataSource, { mainCategory: overrides.category ?? 'comedy' })).id;
  return dataSource.getRepository(VideoEntity).save(buildVideo({ ...overrides, creatorId }));
}
