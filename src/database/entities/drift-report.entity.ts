import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

export type DriftReportStatus = 'ok' | 'insufficient_data';

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

  /** PSI against the model's training baseline (empty maps when status is insufficient_data). */
  @Column('jsonb')
  psi: DriftPsi;

  @Column('real', { name: 'max_psi', nullable: true })
  maxPsi: number | null;

  /** The alert threshold in force (DRIFT_ALERT_PSI). */
  @Column('real', { nullable: true })
  threshold: number | null;

  @Column('boolean')
  alert: boolean;

  @Column('integer', { name: 'sample_size' })
  sampleSize: number;
}
