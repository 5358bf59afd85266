import { Injectable, Logger } from '@nestjs/common';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Pool } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { AppConfig } from '../../config/app-config';
import { encodeImpressionsCopy, IMPRESSION_COLUMNS, ImpressionRow } from '../support/impression-copy';

const COLUMNS = IMPRESSION_COLUMNS.join(', ');

/**
 * Writes impression batches by binary COPY into a staging table, then INSERT ... ON
 * CONFLICT DO NOTHING, so a retried batch cannot duplicate. Uses its own small pool so
 * it never competes with request-path queries and outlives TypeORM's shutdown.
 */
@Injectable()
export class ImpressionRepository {
  private readonly logger = new Logger(ImpressionRepository.name);
  private readonly pool: Pool;

  constructor(config: AppConfig) {
    this.pool = new Pool({ connectionString: config.DATABASE_URL, max: 2, connectionTimeoutMillis: 5000 });
    this.pool.on('error', (err) => this.logger.warn(`impression pool: ${err.message}`));
  }

  /** Writes the rows in one transaction (all or none). */
  async write(rows: ImpressionRow[]): Promise<void> {
    const client = await this.pool.connect();
    // A connection dying between statements must fail this batch, not crash the process.
    const onError = (err: Error) => this.logger.warn(`impression connection lost: ${err.message}`);
    client.on('error', onError);
    let broken = false;
    try {
      await client.query('BEGIN');
      await client.query(
        `CREATE TEMP TABLE IF NOT EXISTS impressions_staging ON COMMIT DELETE ROWS AS SELECT ${COLUMNS} FROM impressions WITH NO DATA`,
      );
      await pipeline(
        Readable.from([encodeImpressionsCopy(rows)]),
        client.query(copyFrom(`COPY impressions_staging (${COLUMNS}) FROM STDIN (FORMAT binary)`)),
      );
      await client.query(
        `INSERT INTO impressions (${COLUMNS}) SELECT ${COLUMNS} FROM impressions_staging ON CONFLICT (request_id, position) DO NOTHING`,
      );
      await client.query('COMMIT');
    } catch (err) {
      await client.query('ROLLBACK').catch(() => (broken = true));
      throw err;
    } finally {
      client.off('error', onError);
      client.release(broken);
    }
  }

  close(): Promise<void> {
    return this.pool.end();
  }
}
