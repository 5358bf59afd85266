import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { loadConfig } from '../config/app-config';
import { dataSourceOptions } from './data-source-options';

/** The DataSource the TypeORM CLI uses (`npm run migrate:revert`, `npx typeorm migration:generate`). */
export default new DataSource(dataSourceOptions(loadConfig()));
