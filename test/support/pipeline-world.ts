import { INestApplicationContext } from '@nestjs/common';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { DataSource } from 'typeorm';
import { createTestDataSource, truncateAllTables } from './database';
import { createCatalog } from './events';
import { clearTestRedis } from './redis';
import { createTestApp } from './test-app';
import { createTestWorker } from './test-worker';

/** The event pipeline end to end: a clean database and Redis, a small catalog, the api and a worker. */
export interface PipelineWorld {
  db: DataSource;
  app: NestFastifyApplication;
  worker: INestApplicationContext;
  /** Ids of the catalog's videos (see createCatalog). */
  videos: string[];
  close(): Promise<void>;
}

export async function startPipelineWorld(videoCount: number): Promise<PipelineWorld> {
  const db = await createTestDataSource();
  await truncateAllTables(db);
  await clearTestRedis();
  const videos = await createCatalog(db, videoCount);
  const app = await createTestApp();
  const worker = await createTestWorker();
  return {
    db,
    app,
    worker,
    videos,
    close: async () => {
      await worker.close();
      await app.close();
      await db.destroy();
    },
  };
}
