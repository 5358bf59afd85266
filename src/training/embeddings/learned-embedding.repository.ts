import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';

const CHUNK = 5_000;

/** Writes embeddings learned from co-engagement to videos.learned_embedding. */
@Injectable()
export class LearnedEmbeddingRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /** Bulk update in chunks, tagging each row with the training run that produced it. Returns rows updated. */
  async write(vectors: Map<string, Float32Array>, version: string): Promise<number> {
    const entries = [...vectors];
    let updated = 0;
    for (let start = 0; start < entries.length; start += CHUNK) {
      const chunk = entries.slice(start, start + CHUNK);
      const [, affected]: [unknown[], number] = await this.db.query(
        `UPDATE videos v SET learned_embedding = d.emb::real[], learned_embedding_version = $3, updated_at = now()
         FROM unnest($1::text[], $2::text[]) AS d(id, emb) WHERE v.id = d.id`,
        [chunk.map(([id]) => id), chunk.map(([, vec]) => `{${Array.from(vec, (x) => x.toPrecision(7)).join(',')}}`), version],
      );
      updated += affected;
    }
    return updated;
  }
}
