import { INestApplicationContext, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { DataSource } from 'typeorm';
import { CoreModule } from '../../src/app/core.module';
import { TrainingModule } from '../../src/training/training.module';
import { TrainingService } from '../../src/training/training.service';
import { seedTestWorld } from '../factories/seeded-world.factory';
import { createTestDataSource, truncateAllTables } from '../support/database';

@Module({ imports: [CoreModule, TrainingModule] })
class TrainingTestModule {}

describe(`${TrainingService.name} on an interaction history without impressions`, () => {
  let db: DataSource;
  let app: INestApplicationContext;

  beforeAll(async () => {
    db = await createTestDataSource();
    await truncateAllTables(db);
    await seedTestWorld(['--users', '150', '--videos', '1000', '--history', '80']);
    // What an imported log looks like: reactions with their times, no serving log, no request ids.
    await db.query(`DELETE FROM impressions`);
    await db.query(`UPDATE interactions SET request_id = NULL`);
    app = await NestFactory.createApplicationContext(TrainingTestModule, { logger: false });
  }, 120_000);

  afterAll(async () => {
    await app?.close();
    await db?.destroy();
  });

  it('learns from engagements with sampled negatives, writes neighbours, and activates only a model that beats the heuristic ranker, and popularity unless the heuristic ranker loses to it too', async () => {
    const result = await app.get(TrainingService).run({ windowHours: 24 * 365 });
    const [row] = await db.query(`SELECT status, metrics, training_info FROM model_versions WHERE id = $1`, [result.modelId]);
    const data = row.training_info.data;
    expect(data.engagedRows).toBeGreaterThan(200);
    expect(data.sampledRows).toBeGreaterThan(data.engagedRows);
    expect(data.trainRows + data.heldOutRows).toBe(data.exposed);

    const { model, popularity, fallback } = row.metrics.ranking;
    expect(row.metrics.ranking.queries).toBeGreaterThan(20);
    const beats = model.ndcg > fallback.ndcg && (model.ndcg > popularity.ndcg || fallback.ndcg <= popularity.ndcg);
    expect(result.promoted).toBe(beats);
    expect(row.status).toBe(beats ? 'active' : 'candidate');
    expect(row.metrics.activation.decision).toBe(result.decision);
    expect(result.decision).toMatch(beats ? /^activated/ : /^not activated: .*(popularity|heuristic ranker)/);

    // The MLP and the listwise linear ranker are both fitted; the one ranking the held-out queries better is the model.
    const { mlpNdcg, listwiseNdcg } = row.training_info.rankers;
    expect(mlpNdcg).toBeGreaterThan(0);
    expect(listwiseNdcg).toBeGreaterThan(0);
    const listwise = listwiseNdcg > mlpNdcg;
    expect(row.training_info.trainer).toBe(listwise ? 'reelrank-listwise-linear' : 'reelrank-mlp');
    expect(model.ndcg).toBeCloseTo(listwise ? listwiseNdcg : mlpNdcg, 10);
    const [{ feature_spec: spec }] = await db.query(`SELECT feature_spec FROM model_versions WHERE id = $1`, [result.modelId]);
    expect(spec.heads).toEqual(listwise ? ['engage'] : ['like', 'complete', 'share', 'skip', 'engage']);

    const [neighbours] = await db.query(`SELECT cardinality(video_ids) AS videos, length(neighbours) / 4 AS pairs FROM item_neighbours WHERE version = $1`, [result.modelId]);
    expect(neighbours.pairs).toBeGreaterThan(neighbours.videos);
  }, 240_000);
});
