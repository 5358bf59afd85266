import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

export type DriftReportStatus = 'ok' | 'insufficient_data';

/**
 * What the report's `psi` compares the live window with: `live`, the model's reference
 * window of live traffic (captured at `referenceCapturedAt`); `pending`, nothing yet (no
 * reference captured before this check); `training`, the model's training baseline
 * (reports written before live references existed).
 */
export type DriftReference = 'live' | 'pending' | 'training';

/** PSI per input feature and per score head, keyed by name. */
export interface DriftPsi {
  features: Record<string, number>;
  scores: Record<string, number>;
}

@Entity('drift_reports')
@Index('idx_drift_reports_time', ['computedAt'])
export class DriftReportEntity {
  @PrimaryGeneratedColumn('increment', { type: 'bigint' })
  id: string;

  /** The active model the live traffic was compared with; null when there was none. */
  @Column('text', { name: 'model_version', nullable: true })
  modelVersion: string | null;

  @Column('timestamptz', { name: 'computed_at' })
  computedAt: Date;

  /** Start of the live window (impressions served from then to computedAt). */
  @Column('timestamptz', { name: 'window_start', nullable: true })
  windowStart: Date | null;

  /** `insufficient_data` when PSI could not be computed; `reason` says why. */
  @Column('text', { default: 'ok' })
  status: DriftReportStatus;

  @Column('text', { nullable: true })
  reason: string | null;

  /** PSI against the reference named by `reference` (empty maps when status is insufficient_data); `alert` is judged on it. */
  @Column('jsonb')
  psi: DriftPsi;

  @Column('real', { name: 'max_psi', nullable: true })
  maxPsi: number | null;

  @Column('text', { default: 'pending' })
  reference: DriftReference;

  /** When the live reference `psi` was computed against was captured (the end of its window); null without one. */
  @Column('timestamptz', { name: 'reference_captured_at', nullable: true })
  referenceCapturedAt: Date | null;

  /**
   * Training-serving skew: PSI of the live window against the model's training baseline
   * (held-out training rows, another population than the served traffic). Reported, never
   * alerted on; null when the model has no training baseline or too few live impressions.
   */
  @Column('jsonb', { name: 'skew_psi', nullable: true })
  skewPsi: DriftPsi | null;

  @Column('real', { name: 'max_skew_psi', nullable: true })
  maxSkewPsi: number | null;

  /** The alert threshold in force (DRIFT_ALERT_PSI). */
  @Column('real', { nullable: true })
  threshold: number | null;

  @Column('boolean')
  alert: boolean;

  @Column('integer', { name: 'sample_size' })
  sampleSize: number;
}
