import { Injectable, Logger } from '@nestjs/common';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Pool, PoolClient } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { AppConfig } from '../../config/app-config';
import { IMPRESSION_COLUMNS, ImpressionRow, impressionsCopyChunks } from '../support/impression-copy';

const COLUMNS = IMPRESSION_COLUMNS.join(', ');

/** Postgres' unique_violation: a batch (or part of one) that was already written. */
const UNIQUE_VIOLATION = '23505';

/**
 * Writes impression batches by binary COPY straight into the table, in one transaction.
 * A batch that collides with rows already written (a retry of a batch whose COMMIT
 * reached Postgres but whose answer did not reach us) is written again through a staging
 * table and INSERT ... ON CONFLICT DO NOTHING, so a retried batch cannot duplicate; the
 * staging path costs Postgres about twice the work, so it is kept for that case. Uses its
 * own small pool so it never competes with request-path queries and outlives TypeORM's
 * shutdown.
 */
@Injectable()
export class ImpressionRepository {
  private readonly logger = new Logger(ImpressionRepository.name);
  private readonly pool: Pool;

  constructor(config: AppConfig) {
    this.pool = new Pool({ connectionString: config.DATABASE_URL, max: 2, connectionTimeoutMillis: 5000 });
    this.pool.on('error', (err) => this.logger.warn(`impression pool: ${err.message}`));
  }

  /** Writes the rows in one transaction (all or none); rows already in the table are skipped. */
  async write(rows: ImpressionRow[]): Promise<void> {
    try {
      await this.transaction((client) => this.copy(client, 'impressions', rows));
    } catch (err) {
      if ((err as { code?: string }).code !== UNIQUE_VIOLATION) throw err;
      await this.transaction(async (client) => {
        await client.query(
          `CREATE TEMP TABLE IF NOT EXISTS impressions_staging ON COMMIT DELETE ROWS AS SELECT ${COLUMNS} FROM impressions WITH NO DATA`,
        );
        await this.copy(client, 'impressions_staging', rows);
        await client.query(
          `INSERT INTO impressions (${COLUMNS}) SELECT ${COLUMNS} FROM impressions_staging ON CONFLICT (request_id, position) DO NOTHING`,
        );
      });
    }
  }

  private copy(client: PoolClient, table: string, rows: ImpressionRow[]): Promise<void> {
    return pipeline(Readable.from(impressionsCopyChunks(rows)), client.query(copyFrom(`COPY ${table} (${COLUMNS}) FROM STDIN (FORMAT binary)`)));
  }

  private async transaction(work: (client: PoolClient) => Promise<void>): Promise<void> {
    const client = await this.pool.connect();
    // A connection dying between statements must fail this batch, not crash the process.
    const onError = (err: Error) => this.logger.warn(`impression connection lost: ${err.message}`);
    client.on('error', onError);
    let broken = false;
    try {
      await client.query('BEGIN');
      await work(client);
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
