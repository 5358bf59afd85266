import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * A model's live reference for drift: the binned distributions (a DriftBaseline of
 * src/monitoring/drift-baseline.ts) of the first window of its served impressions with
 * enough independent values. Captured once per model; capturing a new model's removes the
 * others.
 */
@Entity('drift_references')
export class DriftReferenceEntity {
  @PrimaryColumn('text', { name: 'model_version' })
  modelVersion: string;

  /** The end of the reference window: later checks use impressions served after it. */
  @Column('timestamptz', { name: 'captured_at' })
  capturedAt: Date;

  @Column('timestamptz', { name: 'window_start' })
  windowStart: Date;

  /** Impressions the reference was computed from. */
  @Column('integer', { name: 'sample_size' })
  sampleSize: number;

  @Column('jsonb')
  distributions: Record<string, unknown>;
}
