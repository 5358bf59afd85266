import { DataSourceOptions } from 'typeorm';
import { AppConfig } from '../config/app-config';
import { ENTITIES } from './entities';
import { InitialSchema1764000000000 } from '../../migrations/1764000000000-InitialSchema';
import { LearnedVideoEmbeddings1764000000001 } from '../../migrations/1764000000001-LearnedVideoEmbeddings';
import { InteractionUserSequence1764000100000 } from '../../migrations/1764000100000-InteractionUserSequence';
import { TimeKeysetIndexes1764000300000 } from '../../migrations/1764000300000-TimeKeysetIndexes';
import { DriftReportStatus1764000400000 } from '../../migrations/1764000400000-DriftReportStatus';
import { ItemNeighbours1764000500000 } from '../../migrations/1764000500000-ItemNeighbours';
import { ImportCheckpoints1764001400000 } from '../../migrations/1764001400000-ImportCheckpoints';
import { DriftLiveReference1764001500000 } from '../../migrations/1764001500000-DriftLiveReference';
import { SequenceModels1764001600000 } from '../../migrations/1764001600000-SequenceModels';

export const MIGRATIONS = [
  InitialSchema1764000000000,
  LearnedVideoEmbeddings1764000000001,
  InteractionUserSequence1764000100000,
  TimeKeysetIndexes1764000300000,
  DriftReportStatus1764000400000,
  ItemNeighbours1764000500000,
  ImportCheckpoints1764001400000,
  DriftLiveReference1764001500000,
  SequenceModels1764001600000,
];

/** One definition of the connection, used by the app, the seed, the tests and the TypeORM CLI. */
export function dataSourceOptions(config: Pick<AppConfig, 'DATABASE_URL' | 'DATABASE_POOL_SIZE'>): DataSourceOptions {
  return {
    type: 'postgres',
    url: config.DATABASE_URL,
    entities: ENTITIES,
    migrations: MIGRATIONS,
    migrationsTableName: 'migrations',
    synchronize: false,
    logging: false,
    extra: { max: config.DATABASE_POOL_SIZE, connectionTimeoutMillis: 5000 },
  };
}
